-- Neovim's terminal UI (driven through a pty by tests/editors/test_neovim_chat.py) with neovim-plugin/ (default
-- settings: preview mode, per-hunk review), the real server and the scripted model: the chat buffer and a
-- review, typed by the test as a user types them. Logs to SC_EVENTS, one "<unix time> <event>" a line:
-- "attached", "review-open", "review-closed", "chat-markdown" (the chat buffer highlighted as Markdown by
-- treesitter); and writes the chat buffer's text to SC_CHAT whenever it changes.
-- Inputs (environment): SC_PLUGIN, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_EVENTS, SC_CHAT.
local env = vim.env
local event = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "events.lua")

require("smallcode").setup({
  cmd = { env.SC_PYTHON, "-m", "lsp_server", "--log-file", env.SC_LOG },
  settings = { baseUrl = env.SC_BASE_URL, model = "scripted-model", retries = 0, completion = false },
})
vim.api.nvim_create_autocmd("LspAttach", {
  callback = function()
    event("attached")
  end,
})
-- what the user sees: poll the plugin's state (the screen is checked by the test too)
local chat, review = require("smallcode.chat"), require("smallcode.review")
local last_text, reviewing, markdown = nil, false, false
vim.uv.new_timer():start(20, 20, vim.schedule_wrap(function()
  if chat.buf and vim.api.nvim_buf_is_valid(chat.buf) then
    local text = table.concat(vim.api.nvim_buf_get_lines(chat.buf, 0, -1, false), "\n")
    if not markdown and vim.treesitter.highlighter.active[chat.buf] then
      markdown = true
      event("chat-markdown")
    end
    if text ~= last_text then
      last_text = text
      local handle = assert(io.open(env.SC_CHAT, "w"))
      handle:write(text)
      handle:close()
    end
  end
  local open = next(review.open_reviews) ~= nil
  if open ~= reviewing then
    reviewing = open
    event(open and "review-open" or "review-closed")
  end
end))
