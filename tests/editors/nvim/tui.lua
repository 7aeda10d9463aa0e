-- Neovim's terminal UI (driven through a pty by tests/editors/test_neovim_tui.py) with neovim-plugin/ and the
-- real server: logs to SC_EVENTS, one "<unix time> <event>" a line, when the server attached, when the
-- buffer changed and when it was written, so the test can time what the user sees.
-- Inputs (environment): SC_PLUGIN, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_EVENTS.
local env = vim.env
local event = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "events.lua")

require("smallcode").setup({
  cmd = { env.SC_PYTHON, "-m", "lsp_server", "--log-file", env.SC_LOG },
  settings = { baseUrl = env.SC_BASE_URL, model = "scripted-model", applyMode = "auto", retries = 0, completion = false },
})
vim.api.nvim_create_autocmd("LspAttach", {
  callback = function(args)
    vim.api.nvim_buf_attach(args.buf, false, {
      on_lines = function()
        event("changed") -- allowed in this callback: no API calls, only a file write
      end,
    })
    event("attached")
  end,
})
vim.api.nvim_create_autocmd("BufWritePost", {
  callback = function()
    event("written")
  end,
})
