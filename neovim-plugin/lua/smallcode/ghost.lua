-- Ghost text: the local model's completion shown after the cursor while typing (insert mode), from the
-- server's textDocument/inlineCompletion. Neovim 0.11 has no inline completion of its own (0.12's
-- vim.lsp.inline_completion is used where present), so this asks after a pause in typing, shows the answer as
-- virtual text (its first line inline, the rest as virtual lines), accepts it with a key and drops it when the
-- cursor moves, the text changes or insert mode ends. A request still running when the user types on is
-- cancelled ($/cancelRequest); the server debounces and cancels its model call too.
local compat = require("smallcode.compat")

local M = {}

local ns = vim.api.nvim_create_namespace("smallcode_ghost")
local state = {} -- bufnr -> { timer, request = {client, id}, shown = {row, col, tick, text, mark} }

local function resolve(bufnr)
  return (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
end

local function buf_state(bufnr)
  state[bufnr] = state[bufnr] or {}
  return state[bufnr]
end

local function cancel_request(s)
  if s.request then
    local client, id = s.request.client, s.request.id
    s.request = nil
    pcall(compat.call, client, "cancel_request", id)
  end
end

--- Take the ghost text away (and what is pending for it).
function M.clear(bufnr)
  bufnr = resolve(bufnr)
  local s = state[bufnr]
  if not s then
    return
  end
  if s.timer then
    s.timer:stop()
  end
  cancel_request(s)
  s.shown = nil
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  end
end

--- The completion shown in a buffer, or nil: { row, col, text } (0-based row and byte column).
function M.shown(bufnr)
  local s = state[resolve(bufnr)]
  return s and s.shown or nil
end

local function show(bufnr, row, col, text)
  local lines = vim.split(text, "\n", { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    table.insert(virt_lines, { { lines[i], M.hl } })
  end
  local mark = vim.api.nvim_buf_set_extmark(bufnr, ns, row, col, {
    virt_text = { { lines[1], M.hl } },
    virt_text_pos = "inline",
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = "combine",
  })
  buf_state(bufnr).shown = { row = row, col = col, text = text, tick = vim.b[bufnr].changedtick, mark = mark }
end

local function ask(client, bufnr)
  local s = buf_state(bufnr)
  if vim.api.nvim_get_current_buf() ~= bufnr or not vim.api.nvim_get_mode().mode:match("^i") then
    return
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local tick = vim.b[bufnr].changedtick
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding or "utf-16")
  params.context = { triggerKind = 2 } -- Automatic
  cancel_request(s)
  local handler = function(err, result)
    s.request = nil
    if err or not result or not vim.api.nvim_buf_is_valid(bufnr) then
      return
    end
    local now = vim.api.nvim_win_get_cursor(0)
    if vim.b[bufnr].changedtick ~= tick or now[1] - 1 ~= row or now[2] ~= col then
      return -- typed on or moved since: the answer is for a text that no longer is
    end
    local items = result.items or result
    local first = items and items[1]
    local text = first and (type(first.insertText) == "table" and first.insertText.value or first.insertText)
    if type(text) == "string" and text ~= "" then
      vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
      show(bufnr, row, col, text)
    end
  end
  local ok, id = compat.call(client, "request", "textDocument/inlineCompletion", params, handler, bufnr)
  if ok then
    s.request = { client = client, id = id }
  end
end

--- Put the shown completion into the buffer at the cursor; false when none is shown.
function M.accept(bufnr)
  bufnr = resolve(bufnr)
  local shown = M.shown(bufnr)
  if not shown or vim.b[bufnr].changedtick ~= shown.tick then
    return false
  end
  M.clear(bufnr)
  local lines = vim.split(shown.text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, shown.row, shown.col, shown.row, shown.col, lines)
  local last = shown.row + #lines - 1
  local col = #lines == 1 and shown.col + #lines[1] or #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last + 1, col })
  return true
end

--- An Insert-mode key that acts on the ghost text when some is shown, and is itself (a Tab, …) when none is.
local function map_key(bufnr, key, action, desc)
  if not key or key == "" then
    return
  end
  vim.keymap.set("i", key, function()
    if not M.shown(bufnr) then
      return vim.api.nvim_replace_termcodes(key, true, false, true)
    end
    vim.schedule(function() -- buffer changes are not allowed while an expr mapping is evaluated
      action(bufnr)
    end)
    return ""
  end, { buffer = bufnr, expr = true, replace_keycodes = false, desc = desc })
end

--- Ghost text in this buffer from this client: asks `debounce_ms` after typing stops, `accept_key` takes it.
function M.attach(client, bufnr, opts)
  M.hl = opts.hl or "Comment"
  if vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    -- Neovim 0.12+: its own inline completion (accepted with vim.lsp.inline_completion.get())
    pcall(vim.lsp.inline_completion.enable, true, { bufnr = bufnr, client_id = client.id })
    return
  end
  local s = buf_state(bufnr)
  if s.attached then
    return
  end
  s.attached = true
  s.timer = (vim.uv or vim.loop).new_timer()
  local group = vim.api.nvim_create_augroup("smallcode_ghost_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear(bufnr)
      s.timer:start(opts.debounce_ms, 0, vim.schedule_wrap(function()
        ask(client, bufnr)
      end))
    end,
  })
  vim.api.nvim_create_autocmd({ "CursorMovedI" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      local shown = s.shown
      local cursor = vim.api.nvim_win_get_cursor(0)
      if shown and (cursor[1] - 1 ~= shown.row or cursor[2] ~= shown.col) then
        M.clear(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave", "BufUnload" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.clear(bufnr)
    end,
  })
  map_key(bufnr, opts.accept_key, M.accept, "SmallCode: accept the ghost text")
  map_key(bufnr, opts.dismiss_key, M.clear, "SmallCode: dismiss the ghost text")
end

return M
