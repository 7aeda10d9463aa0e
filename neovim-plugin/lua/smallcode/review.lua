-- Per-hunk review of the agent's proposed edits (the server's `smallcode/review` request, see
-- docs/EDITORS.md): a scratch split lists the unified diff hunk by hunk, each with its state (accepted,
-- rejected, undecided) as virtual text; keys decide each hunk or all, and submit. The request stays pending
-- until the user submits, without blocking Neovim: the handler runs in the coroutine vim.lsp gives a server
-- request (vim.lsp.rpc wraps every request's handler in one) and yields there; submitting resumes it with
-- the answer {accepted, feedback, stop}, which vim.lsp then sends. Closing the buffer rejects everything.
local M = {}

M.defaults = {
  --- Keys in the review buffer (normal mode); a key set to false is not mapped.
  keys = {
    accept = "a", -- accept the hunk under the cursor
    reject = "r", -- reject the hunk under the cursor
    feedback = "f", -- reject the hunk under the cursor and tell the model why (vim.ui.input)
    accept_all = "A",
    reject_all = "R",
    next = "]h",
    prev = "[h",
    submit = "s", -- send the decisions: undecided hunks count as rejected
    stop = "S", -- send the decisions and stop the run
    close = "q", -- reject everything (as closing the buffer any other way)
  },
  --- How the review split opens (a command run before the buffer is shown).
  split = "botright split",
}

M.config = vim.deepcopy(M.defaults)

local ns = vim.api.nvim_create_namespace("smallcode_review")
local marks = {
  accepted = { "✓ accepted", "DiffAdd" },
  rejected = { "✗ rejected", "DiffDelete" },
  undecided = { "? undecided", "Comment" },
}

--- Open reviews by buffer: { params, states = {id -> state}, rows = {i -> header row}, feedback = {…}, reply }.
M.open_reviews = {}

local function hunk_at(review, row)
  local found
  for i, start in ipairs(review.rows) do
    if start <= row then
      found = i
    end
  end
  return found
end

local function counts(review)
  local n = { accepted = 0, rejected = 0, undecided = 0 }
  for _, hunk in ipairs(review.params.hunks) do
    local state = review.states[hunk.id]
    n[state] = n[state] + 1
  end
  return n
end

local function winbar(review)
  local k, n = M.config.keys, counts(review)
  local function key(name)
    return k[name] or "-"
  end
  return string.format(
    " %s  %d✓ %d✗ %d?  │ %s/%s accept/reject · %s feedback · %s/%s all · %s submit · %s stop · %s reject all",
    review.params.path or "",
    n.accepted,
    n.rejected,
    n.undecided,
    key("accept"),
    key("reject"),
    key("feedback"),
    key("accept_all"),
    key("reject_all"),
    key("submit"),
    key("stop"),
    key("close")
  ):gsub("%%", "%%%%")
end

local function draw(buf)
  local review = M.open_reviews[buf]
  vim.api.nvim_buf_clear_namespace(buf, ns, 0, -1)
  for i, hunk in ipairs(review.params.hunks) do
    local text, hl = unpack(marks[review.states[hunk.id]])
    local opts = { virt_text = { { "  " .. text, hl } }, virt_text_pos = "eol" }
    local why = review.feedback[hunk.id]
    if why then
      opts.virt_lines = { { { "  feedback: " .. why, "Comment" } } }
    end
    vim.api.nvim_buf_set_extmark(buf, ns, review.rows[i], 0, opts)
  end
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.wo[win].winbar = winbar(review)
  end
end

local function lines_of(params)
  local title = "SmallCode: " .. (params.created and "create " or "edit ") .. (params.path or "?")
  local lines, rows = { title, "" }, {}
  for _, hunk in ipairs(params.hunks or {}) do
    table.insert(rows, #lines) -- 0-based row of the hunk's header
    table.insert(lines, hunk.header)
    for _, line in ipairs(hunk.lines or {}) do
      table.insert(lines, line)
    end
  end
  return lines, rows
end

--- The answer for the server: the accepted ids, the feedback, stop. Undecided hunks are rejected.
local function answer(review, stop)
  local accepted, feedback = {}, {}
  for _, hunk in ipairs(review.params.hunks) do
    if review.states[hunk.id] == "accepted" then
      table.insert(accepted, hunk.id)
    elseif review.feedback[hunk.id] then
      table.insert(feedback, review.feedback[hunk.id])
    end
  end
  local reply = { accepted = accepted, stop = stop == true }
  if #feedback > 0 then
    reply.feedback = table.concat(feedback, "\n")
  end
  return reply
end

--- Send the answer (once) and close the buffer (unless it is closing already).
local function finish(buf, reply, closing)
  local review = M.open_reviews[buf]
  if not review then
    return
  end
  M.open_reviews[buf] = nil
  review.reply(reply)
  if not closing and vim.api.nvim_buf_is_valid(buf) then
    pcall(vim.api.nvim_buf_delete, buf, { force = true })
  end
  vim.schedule(function() -- back where the user was
    if vim.api.nvim_win_is_valid(review.origin) then
      pcall(vim.api.nvim_set_current_win, review.origin)
    end
  end)
end

local function decide(buf, ids, state)
  local review = M.open_reviews[buf]
  for _, id in ipairs(ids) do
    review.states[id] = state
    if state ~= "rejected" then
      review.feedback[id] = nil
    end
  end
  draw(buf)
end

local function jump(buf, step)
  local review = M.open_reviews[buf]
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local i = hunk_at(review, row)
  local target
  if i == nil then
    target = step > 0 and 1 or nil
  else
    target = i + step
  end
  if target and review.rows[target] then
    vim.api.nvim_win_set_cursor(0, { review.rows[target] + 1, 0 })
  end
end

local function current(buf)
  local review = M.open_reviews[buf]
  local i = hunk_at(review, vim.api.nvim_win_get_cursor(0)[1] - 1) or 1
  return review.params.hunks[i], i
end

--- Decide the hunk under the cursor, then go to the next undecided one.
local function decide_here(buf, state)
  local review = M.open_reviews[buf]
  local hunk, i = current(buf)
  if not hunk then
    return
  end
  decide(buf, { hunk.id }, state)
  for j = i + 1, #review.rows do
    if review.states[review.params.hunks[j].id] == "undecided" then
      return vim.api.nvim_win_set_cursor(0, { review.rows[j] + 1, 0 })
    end
  end
end

local function all_ids(review)
  return vim.tbl_map(function(h)
    return h.id
  end, review.params.hunks)
end

local function map_keys(buf)
  local k = M.config.keys
  local actions = {
    accept = function()
      decide_here(buf, "accepted")
    end,
    reject = function()
      decide_here(buf, "rejected")
    end,
    feedback = function()
      local hunk = current(buf)
      if not hunk then
        return
      end
      vim.ui.input({ prompt = "Reject " .. hunk.header .. " because: " }, function(input)
        if input == nil or not M.open_reviews[buf] then
          return
        end
        M.open_reviews[buf].feedback[hunk.id] = input ~= "" and input or nil
        decide(buf, { hunk.id }, "rejected")
      end)
    end,
    accept_all = function()
      decide(buf, all_ids(M.open_reviews[buf]), "accepted")
    end,
    reject_all = function()
      decide(buf, all_ids(M.open_reviews[buf]), "rejected")
    end,
    next = function()
      jump(buf, 1)
    end,
    prev = function()
      jump(buf, -1)
    end,
    submit = function()
      finish(buf, answer(M.open_reviews[buf], false))
    end,
    stop = function()
      finish(buf, answer(M.open_reviews[buf], true))
    end,
    close = function()
      finish(buf, { accepted = {}, stop = false })
    end,
  }
  for name, fn in pairs(actions) do
    if k[name] then
      vim.keymap.set("n", k[name], fn, { buffer = buf, nowait = true, silent = true, desc = "SmallCode review: " .. name })
    end
  end
end

--- Show a review; `reply(answer)` is called once, when the user submits or closes it. Returns the buffer.
function M.open(params, reply)
  local lines, rows = lines_of(params)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  pcall(vim.api.nvim_buf_set_name, buf, "smallcode://review/" .. (params.path or buf) .. "#" .. buf)
  vim.bo[buf].filetype = "diff"
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  local states = {}
  for _, hunk in ipairs(params.hunks or {}) do
    states[hunk.id] = "undecided"
  end
  M.open_reviews[buf] = {
    params = params,
    states = states,
    rows = rows,
    feedback = {},
    reply = reply,
    origin = vim.api.nvim_get_current_win(),
  }
  map_keys(buf)
  vim.api.nvim_create_autocmd({ "BufWipeout", "BufUnload" }, {
    buffer = buf,
    once = true,
    callback = function()
      finish(buf, { accepted = {}, stop = false }, true) -- closed without submitting: reject everything
    end,
  })
  if vim.api.nvim_get_mode().mode:match("^[iR]") then
    vim.cmd("stopinsert") -- the review's keys are Normal-mode keys
  end
  vim.cmd(M.config.split)
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(win, buf)
  vim.wo[win].wrap = false
  vim.wo[win].number = false
  vim.wo[win].relativenumber = false
  vim.wo[win].foldenable = false
  if rows[1] then
    vim.api.nvim_win_set_cursor(win, { rows[1] + 1, 0 })
  end
  draw(buf)
  return buf
end

--- Close every open review, rejecting everything (the run is over, or being stopped: stop=true tells the
--- server to end the run).
function M.close_all(stop)
  for buf in pairs(M.open_reviews) do
    finish(buf, { accepted = {}, stop = stop == true })
  end
end

--- The handler of the server's `smallcode/review` request. In the coroutine vim.lsp runs server requests in,
--- it yields until the user answers; outside one (older Neovim) it waits in vim.wait, which keeps the editor
--- drawing and typing.
function M.handler(_, params, _)
  local co = coroutine.running()
  local yieldable = co ~= nil and (coroutine.isyieldable == nil or coroutine.isyieldable())
  local result
  local ok, err = pcall(M.open, params or {}, function(answer_)
    if yieldable then
      vim.schedule(function()
        local resumed, failure = coroutine.resume(co, answer_)
        if not resumed then
          vim.notify("SmallCode: answering the review failed: " .. tostring(failure), vim.log.levels.ERROR)
        end
      end)
    else
      result = answer_
    end
  end)
  if not ok then
    vim.notify("SmallCode: could not show the review: " .. tostring(err), vim.log.levels.ERROR)
    return { accepted = {}, stop = false }
  end
  if yieldable then
    return coroutine.yield()
  end
  vim.wait(10 * 60 * 1000, function()
    return result ~= nil
  end, 50)
  return result or { accepted = {}, stop = false }
end

return M
