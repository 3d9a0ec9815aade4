-- Headless Neovim (>= 0.7) scenario for phxguard, driven by tests/editors/test_neovim.py.
-- It sets phxguard up exactly as a user would (require("phxguard").setup{} from
-- editors/neovim), opens one file and records what the editor shows at every step:
--   1. diagnostics after open; 2. hover on the first diagnostic whose code starts with
--   SCENARIO_CODE_PREFIX; 3. its first quick fix, picked through vim.lsp.buf.code_action()
--   and vim.ui.select; 4. a line inserted at the top; 5. the diagnostic's line replaced
--   by a comment. The buffer is never written to disk.
-- Inputs (environment): SCENARIO_RTP (editors/neovim), SCENARIO_CMD (JSON list),
-- SCENARIO_FILE, SCENARIO_RESULT, SCENARIO_CODE_PREFIX, SCENARIO_TIMEOUT_MS.
local uv = vim.loop
local TIMEOUT = tonumber(os.getenv("SCENARIO_TIMEOUT_MS") or "20000")
local SETTLE = 300
local FILE = os.getenv("SCENARIO_FILE")
local PREFIX = os.getenv("SCENARIO_CODE_PREFIX") or ""
local R = { errors = {} }

vim.opt.runtimepath:prepend(os.getenv("SCENARIO_RTP"))

-- What the server pushed for FILE: a counter and the time of the last publish.
local pub = { count = 0, at = 0 }
local uri = vim.uri_from_fname(FILE)
local orig_publish = vim.lsp.handlers["textDocument/publishDiagnostics"]
vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
  if result and result.uri == uri then
    pub.count = pub.count + 1
    pub.at = uv.hrtime()
  end
  return orig_publish(err, result, ctx, config)
end

local function settled(prev)
  return vim.wait(TIMEOUT, function()
    return pub.count > prev and (uv.hrtime() - pub.at) / 1e6 >= SETTLE
  end, 20)
end

local function shown(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    table.insert(out, {
      line = d.lnum, col = d.col, code = code or vim.NIL, source = d.source or vim.NIL,
      message = d.message,
    })
  end
  table.sort(out, function(a, b) return a.line < b.line or (a.line == b.line and a.col < b.col) end)
  return out
end

local function text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
end

local function run()
  require("phxguard").setup({ cmd = vim.json.decode(os.getenv("SCENARIO_CMD")) })
  vim.cmd("edit " .. vim.fn.fnameescape(FILE))
  local bufnr = vim.api.nvim_get_current_buf()
  R.filetype = vim.bo[bufnr].filetype
  local attached = vim.wait(TIMEOUT, function()
    for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
      if c.name == "phxguard" and c.initialized then return true end
    end
    return false
  end, 20)
  R.clients = {}
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr)) do
    table.insert(R.clients, { name = c.name, root_dir = c.config.root_dir })
  end
  if not attached then error("phxguard did not attach") end

  R.published = settled(0)
  R.diagnostics = shown(bufnr)
  local target = nil
  for _, d in ipairs(R.diagnostics) do
    if target == nil and type(d.code) == "string" and d.code:sub(1, #PREFIX) == PREFIX then target = d end
  end
  if target == nil then return end
  R.target = target

  vim.api.nvim_win_set_cursor(0, { target.line + 1, target.col })
  local replies = vim.lsp.buf_request_sync(bufnr, "textDocument/hover", vim.lsp.util.make_position_params(), TIMEOUT)
  for _, reply in pairs(replies or {}) do
    if reply.result and reply.result.contents then
      local lines = vim.lsp.util.convert_input_to_markdown_lines(reply.result.contents)
      R.hover = table.concat(vim.lsp.util.trim_empty_lines(lines), "\n")
    end
  end

  -- The user's path: code_action() lists the actions, the menu answers with the first fix.
  local before = text(bufnr)
  R.actions = {}
  local chosen = false
  vim.ui.select = function(items, _, on_choice)
    local pick = nil
    for _, item in ipairs(items) do
      table.insert(R.actions, item[2].title)
      if pick == nil and item[2].kind == "quickfix" then pick = item end
    end
    R.applied = pick and pick[2].title or vim.NIL
    chosen = true
    on_choice(pick)
  end
  local prev = pub.count
  vim.lsp.buf.code_action()
  vim.wait(TIMEOUT, function() return chosen end, 20)
  vim.wait(TIMEOUT, function() return text(bufnr) ~= before end, 20)
  R.text_after_fix = text(bufnr)
  settled(prev)
  R.diagnostics_after_fix = shown(bufnr)

  prev = pub.count
  vim.api.nvim_buf_set_lines(bufnr, 0, 0, false, { "# inserted by the test" })
  settled(prev)
  R.diagnostics_after_insert = shown(bufnr)

  local first = R.diagnostics_after_insert[1]
  if first ~= nil then
    R.replaced_line = first.line
    prev = pub.count
    vim.api.nvim_buf_set_lines(bufnr, first.line, first.line + 1, false, { "# replaced by the test" })
    settled(prev)
    R.diagnostics_after_replace = shown(bufnr)
  end
  R.text_final = text(bufnr)
end

local ok, err = xpcall(run, debug.traceback)
if not ok then table.insert(R.errors, tostring(err)) end
local f = assert(io.open(os.getenv("SCENARIO_RESULT"), "w"))
f:write(vim.json.encode(R))
f:close()
vim.cmd("qa!")
