-- A floating window for SmallCode's answers (closed with q or <Esc>).
local M = {}

--- The last window opened: { buf, win, title } (tests and statuslines read it).
M.last = nil

function M.close()
  if M.last and vim.api.nvim_win_is_valid(M.last.win) then
    vim.api.nvim_win_close(M.last.win, true)
  end
  M.last = nil
end

---@param title string
---@param lines string[]
---@param filetype string|nil
function M.show(title, lines, filetype)
  M.close()
  if #lines == 0 then
    lines = { "(nothing)" }
  end
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = filetype or "markdown"
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  local width = #title + 4
  for _, line in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(line) + 2)
  end
  width = math.min(width, math.max(20, vim.o.columns - 6))
  local height = math.min(#lines, math.max(3, vim.o.lines - 6))
  local config = {
    relative = "editor",
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    width = width,
    height = height,
    style = "minimal",
    border = "rounded",
  }
  if vim.fn.has("nvim-0.9") == 1 then
    config.title = " " .. title .. " "
    config.title_pos = "center"
  end
  local win = vim.api.nvim_open_win(buf, true, config)
  vim.wo[win].wrap = true
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.keymap.set("n", key, function()
      pcall(vim.api.nvim_win_close, win, true)
    end, { buffer = buf, nowait = true, silent = true })
  end
  M.last = { buf = buf, win = win, title = title }
  return M.last
end

return M
