;;; phxguard.el --- phxguard reliability hints for Elixir, Phoenix and HEEx  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1") (eglot "1.9"))
;; Keywords: languages, tools, elixir
;; SPDX-License-Identifier: MIT

;;; Commentary:

;; phxguard's language server (`phxguard server') finds reliability footguns in
;; Elixir, Phoenix, LiveView, HEEx and Ecto code.  Two ways to use it:
;;
;; 1. phxguard as the eglot server of Elixir and HEEx buffers:
;;
;;      (require 'phxguard)
;;      (phxguard-eglot-setup)
;;      (add-hook 'elixir-mode-hook #'eglot-ensure)   ; and/or elixir-ts-mode-hook ...
;;
;; 2. Next to ElixirLS, Expert or lexical under eglot.  eglot runs one server per
;;    major mode, so phxguard cannot be a second eglot server there.  `phxguard-mode'
;;    runs phxguard's server on a connection of its own (jsonrpc, like eglot) and
;;    feeds its diagnostics into flymake beside eglot's; `phxguard-hover' shows a
;;    hint's explanation and `phxguard-code-actions' applies its quick fixes:
;;
;;      (require 'phxguard)
;;      (add-hook 'elixir-mode-hook #'eglot-ensure)    ; ElixirLS or Expert
;;      (add-hook 'elixir-mode-hook #'phxguard-mode)   ; phxguard beside it
;;
;; Both find the project root through project.el (the directory holding mix.exs
;; is also recognised) and start one server per root.

;;; Code:

(require 'cl-lib)
(require 'jsonrpc)
(require 'flymake)
(require 'project)
(require 'subr-x)
(require 'url-util)

(defgroup phxguard nil
  "Reliability hints for Elixir, Phoenix, LiveView, HEEx and Ecto."
  :group 'tools
  :prefix "phxguard-")

(defcustom phxguard-command '("phxguard" "server")
  "The language server command: the program and its arguments."
  :type '(repeat string))

(defcustom phxguard-eglot-modes
  '((elixir-mode :language-id "elixir")
    (elixir-ts-mode :language-id "elixir")
    (heex-ts-mode :language-id "phoenix-heex"))
  "Major modes `phxguard-eglot-setup' registers phxguard for.
Each entry is a mode, or (MODE :language-id ID) to name its LSP language id."
  :type '(repeat sexp))

(defcustom phxguard-change-delay 0.3
  "Seconds `phxguard-mode' waits after an edit before sending the new text."
  :type 'number)

(defcustom phxguard-settings nil
  "The `phxguard' settings sent as initializationOptions, as a plist.
For example (:select [\"MG\" \"LV\"] :pgVersion 15).
nil: .phxguard.toml alone decides."
  :type 'sexp)

;;;; 1. eglot

(defun phxguard--eglot-contact (&optional _interactive)
  "The eglot contact for phxguard: `phxguard-command', checked to exist."
  (unless (executable-find (car phxguard-command))
    (user-error "phxguard: `%s' not found; install it with `pipx install phxguard' \
(or `python3 -m pip install phxguard'), or set `phxguard-command'" (car phxguard-command)))
  (append phxguard-command
          (when phxguard-settings (list :initializationOptions phxguard-settings))))

;;;###autoload
(defun phxguard-eglot-setup ()
  "Make phxguard the eglot server of the modes in `phxguard-eglot-modes'."
  (require 'eglot)
  (defvar eglot-server-programs)
  (setq eglot-server-programs
        (cons (cons phxguard-eglot-modes #'phxguard--eglot-contact)
              (cl-remove #'phxguard--eglot-contact eglot-server-programs :key #'cdr))))

;;;; 2. phxguard-mode: a connection of its own, beside any eglot server

(defvar phxguard-mode)

(defvar phxguard--connections (make-hash-table :test 'equal)
  "Project root -> live `jsonrpc-process-connection'.")

(defvar-local phxguard--version 0 "Version of the buffer's text last sent to the server.")
(defvar-local phxguard--timer nil "Pending didChange timer.")
(defvar-local phxguard--diagnostics nil "The server's last diagnostics for the buffer (LSP plists).")
(defvar-local phxguard--report-fn nil "flymake's report function for the phxguard backend.")
(defvar-local phxguard--root nil "The project root whose server the buffer talks to.")

(defun phxguard--root ()
  "The project root: the nearest directory holding mix.exs.
Otherwise project.el's root, otherwise `default-directory'."
  (expand-file-name
   (or (locate-dominating-file default-directory "mix.exs")
       (when-let ((project (project-current))) (project-root project))
       default-directory)))

(defun phxguard--uri (file)
  "The file URI of FILE."
  (concat "file://" (url-hexify-string (expand-file-name file) url-path-allowed-chars)))

(defun phxguard--language-id ()
  "The LSP language id of the current buffer."
  (if (and buffer-file-name (string-suffix-p ".heex" buffer-file-name)) "phoenix-heex" "elixir"))

(defun phxguard--buffer-for-uri (uri)
  "The live buffer with `phxguard-mode' visiting URI, or nil."
  (let ((file (url-unhex-string (string-remove-prefix "file://" uri))))
    (cl-find-if (lambda (b) (and (buffer-local-value 'phxguard-mode b)
                                 (buffer-file-name b)
                                 (string= (expand-file-name (buffer-file-name b)) file)))
                (buffer-list))))

(defun phxguard--connection (&optional start)
  "The buffer's live connection; with START, start one if there is none."
  (let ((conn (gethash phxguard--root phxguard--connections)))
    (if (and conn (jsonrpc-running-p conn))
        conn
      (when start (phxguard--start phxguard--root)))))

(defun phxguard--start (root)
  "Start phxguard's server for ROOT and initialize it."
  (unless (executable-find (car phxguard-command))
    (user-error "phxguard: `%s' not found; install it with `pipx install phxguard' \
(or `python3 -m pip install phxguard'), or set `phxguard-command'" (car phxguard-command)))
  (let* ((default-directory root)
         (process (make-process
                   :name (format "phxguard[%s]" root)
                   :command phxguard-command
                   :connection-type 'pipe
                   :coding 'utf-8-emacs-unix
                   :noquery t
                   :stderr (get-buffer-create (format " *phxguard stderr %s*" root))))
         (conn (jsonrpc-process-connection
                :name (format "phxguard %s" root)
                :process process
                :notification-dispatcher #'phxguard--notification
                :request-dispatcher #'phxguard--request
                :on-shutdown (lambda (_conn) (remhash root phxguard--connections)))))
    (puthash root conn phxguard--connections)
    (jsonrpc-request
     conn :initialize
     (list :processId (emacs-pid)
           :clientInfo '(:name "emacs-phxguard-mode")
           :rootUri (phxguard--uri root)
           :rootPath root
           :workspaceFolders (vector (list :uri (phxguard--uri root)
                                           :name (file-name-nondirectory (directory-file-name root))))
           :initializationOptions phxguard-settings
           :capabilities
           '(:general (:positionEncodings ["utf-32"])
             :textDocument (:synchronization (:didSave t)
                            :publishDiagnostics (:relatedInformation :json-false)
                            :hover (:contentFormat ["markdown" "plaintext"])
                            :codeAction (:codeActionLiteralSupport
                                         (:codeActionKind (:valueSet ["quickfix" "source"])))))))
    (jsonrpc-notify conn :initialized (make-hash-table))
    conn))

(defun phxguard--notification (_conn method params)
  "Handle server notification METHOD with PARAMS."
  (pcase method
    ('textDocument/publishDiagnostics
     (when-let ((buffer (phxguard--buffer-for-uri (plist-get params :uri))))
       (with-current-buffer buffer
         (setq phxguard--diagnostics (append (plist-get params :diagnostics) nil))
         (phxguard--report))))
    ('window/showMessage (message "phxguard: %s" (plist-get params :message)))
    (_ nil)))

(defun phxguard--request (_conn method _params)
  "Answer server request METHOD: nothing here needs more than an empty reply."
  (pcase method
    ('workspace/configuration [])
    (_ nil)))

;;; positions: the connection asks for UTF-32, so LSP characters are Emacs characters.

(defun phxguard--point (position)
  "The buffer position of LSP POSITION (a plist)."
  (save-excursion
    (goto-char (point-min))
    (forward-line (plist-get position :line))
    (min (+ (point) (plist-get position :character)) (line-end-position))))

(defun phxguard--position (point)
  "The LSP position of POINT."
  (save-excursion
    (goto-char point)
    (list :line (1- (line-number-at-pos)) :character (- point (line-beginning-position)))))

;;; text sync

(defun phxguard--did-open ()
  "Send the buffer to the server."
  (setq phxguard--version 1)
  (jsonrpc-notify (phxguard--connection t) :textDocument/didOpen
                  (list :textDocument
                        (list :uri (phxguard--uri buffer-file-name)
                              :languageId (phxguard--language-id)
                              :version phxguard--version
                              :text (save-restriction (widen) (buffer-substring-no-properties
                                                               (point-min) (point-max)))))))

(defun phxguard--send-change (buffer)
  "Send BUFFER's whole text as its next version."
  (when (buffer-live-p buffer)
    (with-current-buffer buffer
      (setq phxguard--timer nil)
      (when-let ((conn (phxguard--connection)))
        (cl-incf phxguard--version)
        (jsonrpc-notify conn :textDocument/didChange
                        (list :textDocument (list :uri (phxguard--uri buffer-file-name)
                                                  :version phxguard--version)
                              :contentChanges
                              (vector (list :text (save-restriction
                                                    (widen)
                                                    (buffer-substring-no-properties
                                                     (point-min) (point-max)))))))))))

(defun phxguard-flush ()
  "Send pending edits of the current buffer now."
  (when phxguard--timer
    (cancel-timer phxguard--timer)
    (phxguard--send-change (current-buffer))))

(defun phxguard--after-change (&rest _)
  "Schedule a didChange once typing pauses."
  (when phxguard--timer (cancel-timer phxguard--timer))
  (setq phxguard--timer (run-at-time phxguard-change-delay nil
                                     #'phxguard--send-change (current-buffer))))

(defun phxguard--did-save ()
  "Tell the server the buffer was saved."
  (phxguard-flush)
  (when-let ((conn (phxguard--connection)))
    (jsonrpc-notify conn :textDocument/didSave
                    (list :textDocument (list :uri (phxguard--uri buffer-file-name))))))

(defun phxguard--did-close ()
  "Tell the server the buffer is gone."
  (when phxguard--timer (cancel-timer phxguard--timer))
  (when-let ((conn (phxguard--connection)))
    (ignore-errors
      (jsonrpc-notify conn :textDocument/didClose
                      (list :textDocument (list :uri (phxguard--uri buffer-file-name)))))))

;;; flymake

(defun phxguard--flymake-diagnostic (diag)
  "A flymake diagnostic for the LSP diagnostic DIAG."
  (let* ((range (plist-get diag :range))
         (beg (phxguard--point (plist-get range :start)))
         (end (max (phxguard--point (plist-get range :end)) (min (1+ beg) (point-max)))))
    (flymake-make-diagnostic
     (current-buffer) beg end
     (pcase (plist-get diag :severity) (1 :error) (2 :warning) (_ :note))
     (format "phxguard [%s]: %s" (plist-get diag :code) (plist-get diag :message)))))

(defun phxguard--report ()
  "Give flymake the current diagnostics."
  (when phxguard--report-fn
    (save-restriction
      (widen)
      (funcall phxguard--report-fn
               (mapcar #'phxguard--flymake-diagnostic phxguard--diagnostics)
               :region (cons (point-min) (point-max))))))

(defun phxguard-flymake-backend (report-fn &rest _)
  "Flymake backend: report phxguard's diagnostics through REPORT-FN as they arrive."
  (setq phxguard--report-fn report-fn)
  (phxguard--report))

(defun phxguard--keep-backend ()
  "Put the phxguard backend back after eglot replaced the flymake backends."
  (when phxguard-mode
    (add-hook 'flymake-diagnostic-functions #'phxguard-flymake-backend nil t)
    (when (bound-and-true-p flymake-mode) (flymake-start))))

;;; hover and code actions

(defun phxguard--diagnostics-at (beg end)
  "The server's diagnostics overlapping BEG..END, as a vector."
  (vconcat (cl-remove-if-not
            (lambda (d)
              (let ((range (plist-get d :range)))
                (and (<= (phxguard--point (plist-get range :start)) end)
                     (<= beg (phxguard--point (plist-get range :end))))))
            phxguard--diagnostics)))

(defun phxguard-hover-text (&optional point)
  "The phxguard explanation of the hint at POINT (default: point), or nil."
  (phxguard-flush)
  (let* ((conn (or (phxguard--connection) (user-error "phxguard is not running here")))
         (result (jsonrpc-request
                  conn :textDocument/hover
                  (list :textDocument (list :uri (phxguard--uri buffer-file-name))
                        :position (phxguard--position (or point (point))))))
         (contents (plist-get result :contents)))
    (cond ((null contents) nil)
          ((stringp contents) contents)
          ((plist-get contents :value))
          (t (mapconcat (lambda (c) (if (stringp c) c (plist-get c :value))) contents "\n\n")))))

(defun phxguard-hover ()
  "Show phxguard's explanation of the hint at point."
  (interactive)
  (let ((text (phxguard-hover-text)))
    (if (null text)
        (message "phxguard: no hint here")
      (with-help-window "*phxguard hover*"
        (princ text)))))

(defun phxguard--apply-text-edits (edits)
  "Apply LSP text EDITS (a sequence of plists) to the current buffer."
  (let ((markers (mapcar (lambda (e)
                           (let ((range (plist-get e :range)))
                             (list (copy-marker (phxguard--point (plist-get range :start)))
                                   (copy-marker (phxguard--point (plist-get range :end)) t)
                                   (plist-get e :newText))))
                         edits)))
    (atomic-change-group
      (save-excursion
        (dolist (m markers)
          (goto-char (nth 0 m))
          (delete-region (nth 0 m) (nth 1 m))
          (insert (nth 2 m)))))
    (dolist (m markers) (set-marker (nth 0 m) nil) (set-marker (nth 1 m) nil))))

(defun phxguard--apply-workspace-edit (edit)
  "Apply the LSP WorkspaceEdit EDIT (its `changes' map)."
  (let ((changes (plist-get edit :changes)))
    (while changes
      (let* ((uri (substring (symbol-name (pop changes)) 1))
             (edits (pop changes))
             (file (url-unhex-string (string-remove-prefix "file://" uri))))
        (with-current-buffer (or (phxguard--buffer-for-uri uri) (find-file-noselect file))
          (phxguard--apply-text-edits (append edits nil)))))))

(defun phxguard-code-actions-at (beg end)
  "The phxguard code actions for BEG..END, as plists."
  (phxguard-flush)
  (let ((conn (or (phxguard--connection) (user-error "phxguard is not running here"))))
    (append (jsonrpc-request
             conn :textDocument/codeAction
             (list :textDocument (list :uri (phxguard--uri buffer-file-name))
                   :range (list :start (phxguard--position beg) :end (phxguard--position end))
                   :context (list :diagnostics (phxguard--diagnostics-at beg end))))
            nil)))

(defun phxguard-code-actions (beg end)
  "Choose one of phxguard's quick fixes for BEG..END and apply it.
Interactively, BEG..END is the region, or point."
  (interactive (if (use-region-p) (list (region-beginning) (region-end)) (list (point) (point))))
  (let* ((actions (or (phxguard-code-actions-at beg end)
                      (user-error "phxguard: no fixes here")))
         (titles (mapcar (lambda (a) (cons (plist-get a :title) a)) actions))
         (title (completing-read "phxguard fix: " titles nil t nil nil (caar titles)))
         (action (cdr (assoc title titles))))
    (when-let ((edit (plist-get action :edit)))
      (phxguard--apply-workspace-edit edit))
    (phxguard-flush)
    title))

;;; the mode

;;;###autoload
(define-minor-mode phxguard-mode
  "phxguard's hints in this buffer, beside whatever server eglot runs for it."
  :lighter " phxguard"
  :keymap (make-sparse-keymap)
  (cond
   ((not buffer-file-name)
    (setq phxguard-mode nil))
   (phxguard-mode
    (setq phxguard--root (phxguard--root))
    (add-hook 'after-change-functions #'phxguard--after-change nil t)
    (add-hook 'after-save-hook #'phxguard--did-save nil t)
    (add-hook 'kill-buffer-hook #'phxguard--did-close nil t)
    (add-hook 'eglot-managed-mode-hook #'phxguard--keep-backend nil t)
    (add-hook 'flymake-diagnostic-functions #'phxguard-flymake-backend nil t)
    (phxguard--did-open)
    (flymake-mode 1))
   (t
    (phxguard--did-close)
    (remove-hook 'after-change-functions #'phxguard--after-change t)
    (remove-hook 'after-save-hook #'phxguard--did-save t)
    (remove-hook 'kill-buffer-hook #'phxguard--did-close t)
    (remove-hook 'eglot-managed-mode-hook #'phxguard--keep-backend t)
    (remove-hook 'flymake-diagnostic-functions #'phxguard-flymake-backend t)
    (setq phxguard--diagnostics nil phxguard--report-fn nil))))

(defun phxguard-shutdown-all ()
  "Shut down every phxguard server `phxguard-mode' started."
  (interactive)
  (maphash (lambda (_root conn)
             (ignore-errors (jsonrpc-request conn :shutdown nil :timeout 3))
             (ignore-errors (jsonrpc-notify conn :exit nil))
             (ignore-errors (jsonrpc-shutdown conn)))
           phxguard--connections)
  (clrhash phxguard--connections))

(provide 'phxguard)
;;; phxguard.el ends here
