-- The chat buffer (:SmallCode chat): the conversation with the agent, as it happens. Every ask of the session
-- is a turn here (asks from :SmallCode ask, code actions and lenses too): the prompt, then the model's text as
-- it streams (smallcode/stream), each tool step as it runs (smallcode/step: "▶ read_file(calc.py) …", then ✓
-- or ✗), checks and review outcomes, and the final answer with the edits. Below a separator line is the
-- prompt area: type a follow-up there and send it (<CR> in normal mode, <C-s> in insert mode). The server keeps
-- the conversation (follow-ups see earlier turns); <C-n> starts a new one (smallcode.clear), <C-c> stops the
-- running ask (smallcode.cancel).
local render = require("smallcode.render")

local M = {}

M.defaults = {
  --- Keys in the chat buffer; a key set to false is not mapped.
  keys = { send = "<CR>", send_insert = "<C-s>", stop = "<C-c>", new = "<C-n>" },
  --- How the chat window opens (a command run before the buffer is shown).
  split = "botright vsplit",
  --- Width of the chat window (columns; a number below 1 is a fraction of the screen).
  width = 0.4,
}

M.config = vim.deepcopy(M.defaults)

--- Turns of this session: { prompt, items = { {kind, …} }, reply = nil | CommandReply }.
M.turns = {}
--- The turn whose ask is running (the server runs one at a time per workspace), or nil.
M.current = nil
--- The chat buffer, or nil.
M.buf = nil
--- Set by init.lua: function(prompt) that asks through the plugin's ask path; function() for Stop and New.
M.send_prompt, M.stop_run, M.new_conversation = nil, nil, nil

local ns = vim.api.nvim_create_namespace("smallcode_chat")
local SEPARATOR = "─── your message (<CR> sends) ───"
local separator_mark

local function split(text)
  return vim.split(text or "", "\n", { plain = true })
end

local function tool_line(item)
  local line = "▶ " .. (item.label or item.name or "tool")
  if item.state == "ok" then
    return line .. " ✓" .. (item.ms and string.format(" %d ms", item.ms) or "")
  elseif item.state == "rejected" then
    return line .. " ⊘ rejected by you"
  elseif item.state == "failed" then
    return line .. " ✗" .. (item.error and (" " .. render.one_line(item.error, 200)) or "")
  end
  return line .. " …"
end

--- The streamed text of a turn, in order.
local function streamed(turn)
  local parts = {}
  for _, item in ipairs(turn.items) do
    if item.kind == "text" then
      table.insert(parts, item.text)
    end
  end
  return table.concat(parts)
end

--- Lines for the end of a turn: the answer (what the stream has not shown already), failure and edits.
local function reply_lines(turn)
  local reply, lines = turn.reply, {}
  local data = type(reply.data) == "table" and reply.data or {}
  if reply.ok == false then
    local err = type(reply.error) == "string" and reply.error or "failed"
    table.insert(lines, "✗ " .. (err == "cancelled" and "stopped" or ("failed: " .. render.one_line(err, 300))))
  end
  local text = type(reply.text) == "string" and reply.text or ""
  local response = type(data.response) == "string" and vim.trim(data.response) or ""
  local shown = vim.trim(streamed(turn))
  if response ~= "" and shown:find(response, 1, true) then
    local at = text:find(response, 1, true)
    text = at and (text:sub(1, at - 1) .. text:sub(at + #response)) or text
  elseif text ~= "" and shown ~= "" and shown:find(vim.trim(text), 1, true) then
    text = ""
  end
  if reply.ok == false and vim.trim(text) == (reply.error or "") then
    text = ""
  end
  local said = {} -- check and status lines already shown as steps (the reply repeats the verification)
  for _, item in ipairs(turn.items) do
    if item.kind ~= "text" and item.kind ~= "tool" then
      said[vim.trim(item.text or "")] = true
    end
  end
  for _, line in ipairs(split(vim.trim(text))) do
    if line ~= "" or #lines > 0 then
      if not said[vim.trim(line)] then
        table.insert(lines, line)
      end
    end
  end
  local edits = data.edits
  if type(edits) == "table" and #edits > 0 then
    vim.list_extend(lines, render.edit_lines(edits))
  end
  return lines
end

local function turn_lines(turn)
  local lines = { "## You" }
  vim.list_extend(lines, split(turn.prompt))
  vim.list_extend(lines, { "", "## SmallCode" })
  for _, item in ipairs(turn.items) do
    if item.kind == "text" then
      vim.list_extend(lines, split((item.text:gsub("^\n+", ""):gsub("\n+$", ""))))
    elseif item.kind == "tool" then
      table.insert(lines, tool_line(item))
    else
      table.insert(lines, "» " .. render.one_line(item.text or "", 300))
    end
  end
  if turn.reply then
    vim.list_extend(lines, reply_lines(turn))
  else
    table.insert(lines, turn.stopping and "… stopping" or "… working")
  end
  table.insert(lines, "")
  return lines
end

--- The transcript: every turn of the session.
function M.lines()
  if #M.turns == 0 then
    return { "A new conversation: type below the line, <CR> (normal mode) sends.", "" }
  end
  local lines = {}
  for _, turn in ipairs(M.turns) do
    vim.list_extend(lines, turn_lines(turn))
  end
  return lines
end

local function separator_row()
  if not separator_mark then
    return nil
  end
  local pos = vim.api.nvim_buf_get_extmark_by_id(M.buf, ns, separator_mark, {})
  return pos[1]
end

local function draw()
  local buf = M.buf
  if not buf or not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  local lines = M.lines()
  local sep = separator_row()
  if sep == nil then
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.list_extend(vim.deepcopy(lines), { SEPARATOR, "" }))
    separator_mark = vim.api.nvim_buf_set_extmark(buf, ns, #lines, 0, {})
    return
  end
  local old = vim.api.nvim_buf_get_lines(buf, 0, sep, false)
  local same = 0 -- keep the lines that did not change (the cursor and view stay put)
  while same < #old and same < #lines and old[same + 1] == lines[same + 1] do
    same = same + 1
  end
  if same == #old and same == #lines then
    return
  end
  vim.api.nvim_buf_set_lines(buf, same, sep, false, vim.list_slice(lines, same + 1))
end

local scheduled = false
--- Redraw the chat buffer (once per tick, however many notifications came in).
function M.refresh()
  if scheduled then
    return
  end
  scheduled = true
  vim.schedule(function()
    scheduled = false
    draw()
  end)
end

--- A turn starts: an ask went to the server.
function M.begin(prompt)
  local turn = { prompt = prompt or "", items = {} }
  table.insert(M.turns, turn)
  M.current = M.current or turn -- one run at a time: an ask sent meanwhile is answered "busy"
  M.refresh()
  return turn
end

--- A turn ends with the ask's reply.
function M.finish(turn, reply)
  turn.reply = reply
  if M.current == turn then
    M.current = nil
  end
  M.refresh()
end

--- The running ask's turn, if a notification is about its run (the first one names the run).
local function turn_of(params)
  local turn = M.current
  if not turn or type(params) ~= "table" then
    return nil
  end
  turn.run_id = turn.run_id or params.runId
  return (params.runId == nil or params.runId == turn.run_id) and turn or nil
end

--- smallcode/stream: the model's text of the running ask.
function M.on_stream(params)
  local turn = turn_of(params)
  if not turn or type(params.text) ~= "string" or params.text == "" then
    return
  end
  local last = turn.items[#turn.items]
  if last and last.kind == "text" then
    last.text = last.text .. params.text
  else
    table.insert(turn.items, { kind = "text", text = params.text })
  end
  M.refresh()
end

--- smallcode/step: a tool starts or ends, a status, a check's result, a review's outcome.
function M.on_step(params)
  local turn = turn_of(params)
  if not turn then
    return
  end
  if params.kind == "tool" then
    for _, item in ipairs(turn.items) do
      if item.kind == "tool" and item.id == params.id then
        item.state, item.ms, item.error = params.state, params.ms, params.error
        item.label = params.label or item.label
        return M.refresh()
      end
    end
    table.insert(turn.items, {
      kind = "tool",
      id = params.id,
      name = params.name,
      label = params.label,
      state = params.state,
      ms = params.ms,
      error = params.error,
    })
  elseif type(params.text) == "string" then
    table.insert(turn.items, { kind = params.kind or "status", text = params.text })
  end
  M.refresh()
end

--- A new conversation: the transcript empties (the server's session was cleared).
function M.reset()
  M.turns, M.current = {}, nil
  M.refresh()
end

--- The text typed below the separator.
function M.input()
  local sep = separator_row()
  if not sep or not M.buf then
    return ""
  end
  return vim.trim(table.concat(vim.api.nvim_buf_get_lines(M.buf, sep + 1, -1, false), "\n"))
end

local function focus_input()
  local sep = separator_row()
  if not sep then
    return
  end
  for _, win in ipairs(vim.fn.win_findbuf(M.buf)) do
    if win == vim.api.nvim_get_current_win() then
      vim.api.nvim_win_set_cursor(win, { math.min(sep + 2, vim.api.nvim_buf_line_count(M.buf)), 0 })
    end
  end
end

--- Send what is typed in the prompt area.
function M.send()
  local prompt = M.input()
  if prompt == "" then
    return vim.notify("SmallCode: type a message below the line first", vim.log.levels.WARN)
  end
  if M.current then
    return vim.notify("SmallCode: still working on the last message (<C-c> stops it)", vim.log.levels.WARN)
  end
  vim.api.nvim_buf_set_lines(M.buf, separator_row() + 1, -1, false, { "" })
  M.send_prompt(prompt)
  draw()
  focus_input()
end

function M.stop()
  if M.current then
    M.current.stopping = true
    M.refresh()
  end
  M.stop_run()
end

local function winbar()
  local k = M.config.keys
  return string.format(
    " %s send · %s stop · %s new chat",
    k.send or "-",
    k.stop or "-",
    k.new or "-"
  ):gsub("%%", "%%%%")
end

--- A few highlights (markdown's syntax would flag every "_" in a tool's name).
local function highlight(buf)
  vim.api.nvim_buf_call(buf, function()
    vim.cmd([[
      syntax clear
      syntax match SmallCodeChatHeading /^## .*$/
      syntax match SmallCodeChatStep /^▶ .*$/ contains=SmallCodeChatOk,SmallCodeChatFailed
      syntax match SmallCodeChatOk /✓/ contained
      syntax match SmallCodeChatFailed /✗.*$/ contained
      syntax match SmallCodeChatNote /^» .*$/
      syntax match SmallCodeChatEdit /^[✓✗◐…?] .* ([a-z]\+)$/
      syntax match SmallCodeChatFailed /^✗ .*$/
      syntax match SmallCodeChatSeparator /^─── .* ───$/
      syntax match SmallCodeChatWorking /^… \(working\|stopping\)$/
    ]])
  end)
  local links = {
    SmallCodeChatHeading = "Title",
    SmallCodeChatStep = "Function",
    SmallCodeChatOk = "DiagnosticOk",
    SmallCodeChatFailed = "DiagnosticError",
    SmallCodeChatNote = "Comment",
    SmallCodeChatEdit = "Special",
    SmallCodeChatSeparator = "NonText",
    SmallCodeChatWorking = "DiagnosticWarn",
  }
  for group, target in pairs(links) do
    vim.api.nvim_set_hl(0, group, { link = target, default = true })
  end
end

local function create_buffer()
  local buf = vim.api.nvim_create_buf(false, true)
  pcall(vim.api.nvim_buf_set_name, buf, "smallcode://chat")
  vim.bo[buf].filetype = "smallcode_chat"
  -- The model writes Markdown (code blocks, `code`, lists): Neovim's own markdown parser highlights it under
  -- the chat's marks; a build without the parser gets the markdown syntax file instead.
  if not pcall(vim.treesitter.start, buf, "markdown") then
    vim.bo[buf].syntax = "markdown"
  end
  highlight(buf)
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  M.buf, separator_mark = buf, nil
  local k, opts = M.config.keys, { buffer = buf, silent = true }
  if k.send then
    vim.keymap.set("n", k.send, M.send, vim.tbl_extend("force", opts, { desc = "SmallCode chat: send" }))
  end
  if k.send_insert then
    vim.keymap.set("i", k.send_insert, function()
      vim.cmd("stopinsert")
      vim.schedule(M.send)
    end, vim.tbl_extend("force", opts, { desc = "SmallCode chat: send" }))
  end
  if k.stop then
    vim.keymap.set("n", k.stop, M.stop, vim.tbl_extend("force", opts, { desc = "SmallCode chat: stop" }))
  end
  if k.new then
    vim.keymap.set("n", k.new, function()
      M.new_conversation()
    end, vim.tbl_extend("force", opts, { desc = "SmallCode chat: new conversation" }))
  end
  vim.api.nvim_create_autocmd("BufWipeout", {
    buffer = buf,
    once = true,
    callback = function()
      M.buf, separator_mark = nil, nil
    end,
  })
  draw()
  return buf
end

--- Open the chat window (or focus it); the cursor goes to the prompt area.
function M.open()
  if not (M.buf and vim.api.nvim_buf_is_valid(M.buf)) then
    create_buffer()
  end
  local win = vim.fn.win_findbuf(M.buf)[1]
  if win then
    vim.api.nvim_set_current_win(win)
  else
    vim.cmd(M.config.split)
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, M.buf)
    local width = M.config.width
    if width and width < 1 then
      width = math.floor(vim.o.columns * width)
    end
    if width and M.config.split:find("vsplit", 1, true) then
      vim.api.nvim_win_set_width(win, math.max(40, width))
    end
    vim.wo[win].wrap = true
    vim.wo[win].linebreak = true
    vim.wo[win].number = false
    vim.wo[win].relativenumber = false
    vim.wo[win].winbar = winbar()
  end
  draw()
  focus_input()
  return M.buf, win
end

return M
