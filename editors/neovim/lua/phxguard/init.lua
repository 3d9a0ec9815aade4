-- phxguard for Neovim >= 0.7: starts `phxguard server` for Elixir and HEEx buffers.
--
--   require("phxguard").setup({})
--
-- Runs next to ElixirLS, Expert or lexical: Neovim attaches any number of language
-- servers to a buffer, and phxguard's diagnostics carry the source "phxguard".
-- On Neovim >= 0.11 you can use lsp/phxguard.lua with vim.lsp.enable("phxguard") instead.
local M = {}

M.defaults = {
  -- The server command; a virtualenv's phxguard works too: { "/path/.venv/bin/phxguard", "server" }.
  cmd = { "phxguard", "server" },
  filetypes = { "elixir", "eelixir", "heex" },
  -- The first directory upwards holding one of these is the workspace root.
  root_markers = { "mix.exs", ".git" },
  -- The `phxguard` settings section, e.g. { select = { "MG", "LV" }, pgVersion = 15 }
  -- (keys: select, ignore, severity, pgVersion, exclude). nil: .phxguard.toml alone decides.
  settings = nil,
  init_options = nil,
  on_attach = nil,
  capabilities = nil,
}

M.config = nil
-- root directory -> client id (Neovim < 0.8, where vim.lsp.start does not exist)
local clients = {}

local function is_root(dir, markers)
  for _, marker in ipairs(markers) do
    local path = dir .. "/" .. marker
    if vim.fn.filereadable(path) == 1 or vim.fn.isdirectory(path) == 1 then
      return true
    end
  end
  return false
end

--- The nearest ancestor of `path` holding a root marker (markers earlier in the list win),
--- or nil. Works on Neovim 0.7, which has no vim.fs.
function M.find_root(path, markers)
  markers = markers or M.defaults.root_markers
  local start = vim.fn.fnamemodify(path, ":p")
  if vim.fn.isdirectory(start) == 0 then
    start = vim.fn.fnamemodify(start, ":h")
  end
  for _, marker in ipairs(markers) do
    local dir = start
    while true do
      if is_root(dir, { marker }) then
        return dir
      end
      local parent = vim.fn.fnamemodify(dir, ":h")
      if parent == dir then
        break
      end
      dir = parent
    end
  end
  return nil
end

local function client_config(root)
  local cfg = M.config
  return {
    name = "phxguard",
    cmd = cfg.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ":t") } },
    -- An empty Lua table would be sent as a JSON array: send nothing instead.
    settings = (cfg.settings and next(cfg.settings) ~= nil) and { phxguard = cfg.settings } or nil,
    init_options = cfg.init_options,
    on_attach = cfg.on_attach,
    capabilities = cfg.capabilities,
  }
end

--- Starts (or reuses) the phxguard client for the buffer's project and attaches it.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  if vim.fn.executable(M.config.cmd[1]) == 0 then
    if not M._warned then
      M._warned = true
      vim.notify(
        "phxguard: `" .. M.config.cmd[1] .. "` not found. Install it with `pipx install phxguard` "
          .. "(or `python3 -m pip install phxguard`), or pass cmd = { '/path/to/phxguard', 'server' } to setup().",
        vim.log.levels.WARN
      )
    end
    return nil
  end
  local root = M.find_root(name, M.config.root_markers) or vim.fn.fnamemodify(name, ":p:h")
  if vim.lsp.start then
    return vim.lsp.start(client_config(root), { bufnr = bufnr })
  end
  local id = clients[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil or vim.lsp.get_client_by_id(id).is_stopped() then
    id = vim.lsp.start_client(client_config(root))
    clients[root] = id
  end
  if id ~= nil then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- Registers the FileType autocommand; `opts` overrides M.defaults key by key.
function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  -- Lists replace the defaults instead of being merged index by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts and opts[key] then
      M.config[key] = opts[key]
    end
  end
  local group = vim.api.nvim_create_augroup("phxguard", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
    desc = "phxguard: attach the language server",
  })
  -- Buffers opened before setup() ran.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.config.filetypes, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

return M
