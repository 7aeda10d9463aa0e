-- Headless Neovim with neovim-plugin/ (default settings: preview mode, per-hunk review) against the real server
-- and the scripted model (tests/editors/test_neovim_hunks.py queues the model's replies):
--   1. an ask whose edit is reviewed: while the review is pending, the buffer and the disk as they are; then
--      the review closed with q (reject everything): both again
--   2. an ask whose edit has two hunks: the first accepted (a), the second rejected with feedback (f), submitted
--      (s): the buffer and the disk after it
--   3. an ask whose review is answered with S (stop): the ask's answer
--   4. :SmallCode cancel while a review is pending; 5. a review window closed with :close
-- The review keys are typed with :normal in the review window, as a user's keys are mapped there.
-- Inputs (environment): SC_PLUGIN, SC_FILE, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_RESULT.
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "harness.lua")
local result, wait, take_float = h.result, h.wait, h.take_float
vim.o.columns, vim.o.lines = 160, 40

-- the buffer's and the disk's text, with the last line's end
local function text(bufnr)
  return h.text(bufnr) .. "\n"
end

local function disk()
  return h.disk() .. "\n"
end

--- The open review's buffer, once the server asked for one.
local function review_buffer()
  local review = require("smallcode.review")
  wait("the review", 30000, function()
    return next(review.open_reviews) ~= nil
  end)
  local buf = next(review.open_reviews)
  assert(vim.api.nvim_get_current_buf() == buf, "the review window has the focus")
  return buf
end

--- The state shown on each hunk's header line (the virtual text), in order.
local function shown_states(buf)
  local ns = vim.api.nvim_get_namespaces().smallcode_review
  local states = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })) do
    local row, details = mark[2], mark[4]
    local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1]
    table.insert(states, line .. " |" .. vim.trim(details.virt_text[1][1]))
  end
  return states
end

h.run(function()
  local smallcode, bufnr = h.start()
  result.original = text(bufnr)

  -- 1. pending, then closed (rejected)
  smallcode.ask("make x2 and x14 ten times larger")
  local buf = review_buffer()
  vim.wait(500) -- the server holds its request meanwhile; nothing may change
  result.pending = {
    lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
    states = shown_states(buf),
    winbar = vim.wo.winbar,
    buffer = text(bufnr),
    modified = vim.bo[bufnr].modified,
    disk = disk(),
    windows = #vim.api.nvim_list_wins(),
  }
  vim.cmd.normal("R")
  result.all_rejected = shown_states(buf)
  vim.cmd.normal("q")
  result.after_reject = { float = take_float("SmallCode: ask"), buffer = text(bufnr), disk = disk() }
  result.after_reject.modified = vim.bo[bufnr].modified
  result.after_reject.windows = #vim.api.nvim_list_wins()
  table.insert(result.steps, "reject")

  -- 2. two hunks: accept the first, reject the second with feedback, submit
  vim.ui.input = function(opts, on_confirm)
    result.feedback_prompt = opts.prompt
    on_confirm("keep x14 as it is")
  end
  smallcode.ask("make x2 and x14 ten times larger")
  buf = review_buffer()
  result.moves = { vim.api.nvim_get_current_line() } -- the cursor starts on the first hunk
  vim.cmd.normal("]h")
  table.insert(result.moves, vim.api.nvim_get_current_line())
  vim.cmd.normal("]h") -- no hunk after the last: it stays
  table.insert(result.moves, vim.api.nvim_get_current_line())
  vim.cmd.normal("[h")
  table.insert(result.moves, vim.api.nvim_get_current_line())
  vim.cmd.normal("a") -- then the cursor moves to the next undecided hunk
  result.cursor_after_accept = vim.api.nvim_get_current_line()
  vim.cmd.normal("f")
  result.decided = { states = shown_states(buf), winbar = vim.wo.winbar }
  vim.cmd.normal("s")
  result.after_partial = { float = take_float("SmallCode: ask"), buffer = text(bufnr), disk = disk() }
  result.after_partial.modified = vim.bo[bufnr].modified
  table.insert(result.steps, "partial")

  -- 3. stop from the review
  smallcode.ask("make x2 and x14 ten times larger")
  buf = review_buffer()
  vim.cmd.normal("S")
  result.after_stop = { float = take_float("SmallCode: ask"), buffer = text(bufnr), disk = disk() }
  table.insert(result.steps, "stop")

  -- 4. :SmallCode cancel while a review is pending: the review closes (rejected) and the run stops
  smallcode.ask("make x2 and x14 ten times larger")
  buf = review_buffer()
  vim.cmd("SmallCode cancel")
  result.after_cancel = { float = take_float("SmallCode: ask"), buffer = text(bufnr), disk = disk() }
  result.after_cancel.review_open = vim.api.nvim_buf_is_valid(buf)
  table.insert(result.steps, "cancel")

  -- 5. a review closed with :close (no key of the plugin's): everything rejected
  smallcode.ask("make x2 and x14 ten times larger")
  buf = review_buffer()
  vim.cmd.close()
  result.after_close = { float = take_float("SmallCode: ask"), buffer = text(bufnr), disk = disk() }
  table.insert(result.steps, "close")
  h.finish(true, "ok")
end)
