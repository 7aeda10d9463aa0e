-- Neovim's terminal UI (driven through a pty by tests/editors/test_neovim_ghost.py) with neovim-plugin/, the
-- real server and a scripted /v1/completions model: ghost text while typing. Logs to SC_EVENTS, one
-- "<unix time> <event>" a line: "attached" when the server attached, "ghost <text>" when ghost text is shown,
-- "written" when the buffer was written.
-- Inputs (environment): SC_PLUGIN, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_EVENTS.
local env = vim.env
local event = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "events.lua")

require("smallcode").setup({
  cmd = { env.SC_PYTHON, "-m", "lsp_server", "--log-file", env.SC_LOG },
  settings = { baseUrl = env.SC_BASE_URL, model = "scripted-model", retries = 0, completionDebounceMs = 0 },
})
vim.api.nvim_create_autocmd("LspAttach", {
  callback = function()
    event("attached")
  end,
})
-- what the user sees: poll the plugin's state (the screen is checked by the test too)
local timer = vim.uv.new_timer()
local last
timer:start(20, 20, vim.schedule_wrap(function()
  local shown = require("smallcode.ghost").shown(0)
  local text = shown and shown.text or nil
  if text ~= last then
    last = text
    event(text and ("ghost " .. text) or "ghost-gone")
  end
end))
vim.api.nvim_create_autocmd("BufWritePost", {
  callback = function()
    event("written")
  end,
})
