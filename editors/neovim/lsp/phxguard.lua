-- phxguard for Neovim >= 0.11: put this directory on 'runtimepath' (or copy this file to
-- ~/.config/nvim/lsp/phxguard.lua), then call vim.lsp.enable("phxguard").
-- Override anything with vim.lsp.config("phxguard", { ... }).
return {
  cmd = { "phxguard", "server" },
  filetypes = { "elixir", "eelixir", "heex" },
  root_markers = { "mix.exs", ".git" },
  -- Settings go in a `phxguard` section, e.g.
  -- vim.lsp.config("phxguard", { settings = { phxguard = { select = { "MG" }, pgVersion = 15 } } })
}
