;;; eglot_scenario.el --- headless Emacs scenario for phxguard  -*- lexical-binding: t; -*-

;; Driven by tests/editors/test_emacs.py.  Loads editors/emacs/phxguard.el and sets it up
;; as a user would, opens one file and records what Emacs shows at every step:
;; diagnostics after open, the hover text of the first diagnostic whose code starts
;; with SCENARIO_CODE_PREFIX, its first quick fix (picked through the interactive
;; command, the menu answered like a user would), a line inserted at the top, and the
;; first diagnostic's line replaced by a comment.  Nothing is saved to disk.
;;
;; SCENARIO_MODE is "eglot" (phxguard is eglot's server: `phxguard-eglot-setup') or
;; "beside" (eglot runs another server, SCENARIO_OTHER_CMD, and `phxguard-mode' adds
;; phxguard's hints next to it).  Other inputs: SCENARIO_LISP (editors/emacs),
;; SCENARIO_CMD (JSON list), SCENARIO_WORKSPACE, SCENARIO_FILE, SCENARIO_RESULT,
;; SCENARIO_TIMEOUT_MS.

(require 'cl-lib)
(require 'json)
(require 'subr-x)
(when (boundp 'native-comp-eln-load-path)
  (push (expand-file-name "eln-cache/" user-emacs-directory) native-comp-eln-load-path))
(add-to-list 'load-path (getenv "SCENARIO_LISP"))
(require 'eglot)
(require 'phxguard)

(defvar scn-mode (getenv "SCENARIO_MODE"))
(defvar scn-file (expand-file-name (getenv "SCENARIO_FILE")))
(defvar scn-root (file-name-as-directory (expand-file-name (getenv "SCENARIO_WORKSPACE"))))
(defvar scn-prefix (or (getenv "SCENARIO_CODE_PREFIX") ""))
(defvar scn-timeout (/ (string-to-number (or (getenv "SCENARIO_TIMEOUT_MS") "20000")) 1000.0))
(defvar scn-settle 0.3)
(defvar scn-result (make-hash-table :test 'equal))
(puthash "errors" [] scn-result)

(defun scn-put (key value) (puthash key value scn-result))

;; Debian's Emacs 28 has no elixir-mode package: a stand-in major mode, as a user's
;; elixir-mode would be.
(unless (require 'elixir-mode nil t)
  (define-derived-mode elixir-mode prog-mode "Elixir" "Stand-in Elixir mode."
    (setq-local comment-start "# ")))
(add-to-list 'auto-mode-alist '("\\.exs?\\'" . elixir-mode))

(setq phxguard-command (append (json-parse-string (getenv "SCENARIO_CMD") :array-type 'list) nil))
(setq eglot-sync-connect scn-timeout
      eglot-autoshutdown nil
      eglot-confirm-server-initiated-edits nil)
(add-hook 'project-find-functions
          (lambda (dir) (when (file-in-directory-p dir scn-root) (cons 'transient scn-root))))

(pcase scn-mode
  ("eglot" (phxguard-eglot-setup))
  ("beside"
   (setq eglot-server-programs
         (list (cons 'elixir-mode
                     (append (json-parse-string (getenv "SCENARIO_OTHER_CMD") :array-type 'list)
                             nil))))
   (add-hook 'elixir-mode-hook #'phxguard-mode)))

;;;; Counting what the servers publish for the file.

(defvar scn-published 0)
(defvar scn-published-at 0)
(defun scn-saw-publish ()
  (setq scn-published (1+ scn-published) scn-published-at (float-time)))
(advice-add 'eglot-handle-notification :before
            (lambda (_server method &rest params)
              (when (and (eq method 'textDocument/publishDiagnostics)
                         (equal (eglot--uri-to-path (plist-get params :uri)) scn-file))
                (scn-saw-publish))))
(advice-add 'phxguard--notification :before
            (lambda (_conn method params)
              (when (and (eq method 'textDocument/publishDiagnostics)
                         (string-suffix-p (file-name-nondirectory scn-file) (plist-get params :uri)))
                (scn-saw-publish))))

(defun scn-wait (pred secs)
  (let ((deadline (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.02))
    (funcall pred)))

(defun scn-settled (prev)
  (scn-wait (lambda () (and (> scn-published prev) (>= (- (float-time) scn-published-at) scn-settle)))
            scn-timeout))

(defun scn-flush ()
  "Send pending edits as the editor does once the user pauses.
Batch Emacs never goes idle, so eglot's idle timer is run by hand."
  (if (equal scn-mode "beside")
      (phxguard-flush)
    (when eglot--change-idle-timer
      (let ((timer eglot--change-idle-timer))
        (cancel-timer timer)
        (apply (timer--function timer) (timer--args timer))))))

(defun scn-shown ()
  "What flymake shows, in buffer order."
  (flymake-start)
  (accept-process-output nil 0.05)
  (vconcat
   (mapcar (lambda (d)
             (let ((beg (flymake-diagnostic-beg d)))
               (list :line (1- (line-number-at-pos beg))
                     :col (save-excursion (goto-char beg) (current-column))
                     :type (symbol-name (flymake-diagnostic-type d))
                     :text (flymake-diagnostic-text d))))
           (sort (flymake-diagnostics)
                 (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))))

(defun scn-text () (buffer-substring-no-properties (point-min) (point-max)))

(defun scn-run ()
  (find-file scn-file)
  (eglot-ensure)
  ;; eglot-ensure connects from post-command-hook, which batch Emacs never runs.
  (run-hooks 'post-command-hook)
  (unless (scn-wait (lambda () (and eglot--managed-mode (eglot-current-server))) scn-timeout)
    (error "eglot did not manage the buffer"))
  (scn-put "eglot_server" (plist-get (eglot--server-info (eglot-current-server)) :name))
  (scn-put "phxguard_mode" (if phxguard-mode t :json-false))
  (scn-put "published" (if (scn-settled 0) t :json-false))
  ;; In "beside" mode both servers publish: wait until phxguard's hints are there too.
  (scn-wait (lambda () (cl-some (lambda (d) (string-prefix-p "phxguard [" (flymake-diagnostic-text d)))
                                (progn (flymake-start) (flymake-diagnostics))))
            scn-timeout)
  (scn-put "diagnostics" (scn-shown))
  (let ((target (cl-find-if (lambda (d)
                              (string-prefix-p (format "phxguard [%s" scn-prefix)
                                               (flymake-diagnostic-text d)))
                            (sort (flymake-diagnostics)
                                  (lambda (a b) (< (flymake-diagnostic-beg a)
                                                   (flymake-diagnostic-beg b)))))))
    (when target
      (goto-char (flymake-diagnostic-beg target))
      (scn-put "target" (flymake-diagnostic-text target))
      (scn-put "hover"
               (if (equal scn-mode "beside")
                   (phxguard-hover-text)
                 (let* ((res (jsonrpc-request (eglot-current-server) :textDocument/hover
                                              (eglot--TextDocumentPositionParams))))
                   (substring-no-properties
                    (eglot--hover-info (plist-get res :contents) (plist-get res :range))))))
      ;; The interactive command; the menu is answered with its first quick fix.
      (let* ((before (scn-text)) (prev scn-published) titles
             (completing-read-function
              (lambda (_prompt collection &rest _)
                (setq titles (mapcar (lambda (c) (if (consp c) (car c) c)) collection))
                (car titles))))
        (let ((last-nonmenu-event ?\r))
          (if (equal scn-mode "beside")
              (call-interactively #'phxguard-code-actions)
            (eglot-code-actions (flymake-diagnostic-beg target) (flymake-diagnostic-end target) nil t)))
        (scn-put "actions" (vconcat titles))
        (scn-put "text_after_fix" (scn-text))
        (unless (equal before (scn-text)) (scn-flush))
        (scn-settled prev)
        (scn-put "diagnostics_after_fix" (scn-shown)))
      (let ((prev scn-published))
        (save-excursion (goto-char (point-min)) (insert "# inserted by the test\n"))
        (scn-flush)
        (scn-settled prev)
        (scn-put "diagnostics_after_insert" (scn-shown)))
      (let ((first (cl-find-if (lambda (d) (string-prefix-p "phxguard [" (plist-get d :text)))
                               (append (gethash "diagnostics_after_insert" scn-result) nil)))
            (prev scn-published))
        (when first
          (scn-put "replaced_line" (plist-get first :line))
          (save-excursion
            (goto-char (point-min))
            (forward-line (plist-get first :line))
            (delete-region (line-beginning-position) (line-end-position))
            (insert "# replaced by the test"))
          (scn-flush)
          (scn-settled prev)
          (scn-put "diagnostics_after_replace" (scn-shown))))))
  (scn-put "text_final" (scn-text))
  (set-buffer-modified-p nil))

(condition-case err
    (scn-run)
  (error (scn-put "errors" (vector (format "%S" err)))))
(with-temp-file (getenv "SCENARIO_RESULT")
  (insert (json-encode scn-result)))
(ignore-errors (with-timeout (3) (eglot-shutdown (eglot-current-server))))
(ignore-errors (with-timeout (3) (phxguard-shutdown-all)))
(kill-emacs 0)
