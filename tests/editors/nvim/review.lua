-- Headless Neovim with neovim-plugin/ (default settings: preview mode) against the real server and the scripted
-- model, for issue 16's Neovim items:
--   A. the user's unsaved line in the buffer, then an ask with a long two-line prompt (its change accepted in
--      the review): what is on disk after it
--   B. another source's diagnostic at the cursor: the code actions offered ("fix: …"); then an ask whose
--      prompt says #diagnostics carries it
--   C. :SmallCode trace and the sessions picker: one line per entry
--   D. plan lenses in .smallcode/plan.md: the state lens shows the plan, "▶ Run step" shows the answer, a
--      step left running offers Retry
-- Inputs (environment): SC_PLUGIN, SC_FILE, SC_PLAN, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_RESULT.
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "harness.lua")
local env, result, wait = vim.env, h.result, h.wait
vim.o.columns, vim.o.lines = 160, 40

-- the lines of the floating window with this title (closed), or {} when none opens (the test then says so)
local function take_float(title, ms)
  local opened, lines = pcall(h.take_float, title, ms)
  return opened and lines or {}
end

local function lens_titles(bufnr)
  return vim.tbl_map(function(l)
    return { line = l.range.start.line, title = l.command and l.command.title or "" }
  end, vim.lsp.codelens.get(bufnr))
end

local function run_lens(bufnr, prefix)
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    if lens.command and lens.command.title:sub(1, #prefix) == prefix then
      vim.api.nvim_win_set_cursor(0, { lens.range.start.line + 1, 0 })
      vim.ui.select = function(items, opts, on_choice)
        for i, item in ipairs(items) do
          if opts.format_item(item):sub(1, #prefix) == prefix then
            return on_choice(item, i)
          end
        end
        on_choice(nil, nil)
      end
      return vim.lsp.codelens.run()
    end
  end
  error("no lens " .. prefix)
end

h.run(function()
  local smallcode, bufnr = h.start()

  -- A. an unsaved line of the user's, then an ask
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { "# my unsaved note" })
  smallcode.ask(
    "fix the bug in add, it should add and not subtract the numbers\n"
      .. "and keep everything else in this file exactly as it is now please",
    1,
    2
  )
  -- the change is reviewed first (preview mode): accept all of it, submit
  local review = require("smallcode.review")
  wait("the review", 30000, function()
    return next(review.open_reviews) ~= nil
  end)
  vim.cmd.normal("A")
  vim.cmd.normal("s")
  result.ask_float = take_float("SmallCode: ask")
  result.after_ask = h.text(bufnr)
  result.modified_after_ask = vim.bo[bufnr].modified
  result.disk_after_ask = h.disk()
  table.insert(result.steps, "ask")

  -- B. another source's diagnostic at the cursor: offered as a quick fix
  local ns = vim.api.nvim_create_namespace("other_linter")
  vim.diagnostic.set(ns, bufnr, {
    { lnum = 1, col = 4, end_lnum = 1, end_col = 16, message = "add subtracts", source = "otherlint", severity = 1 },
  })
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  vim.ui.select = function(items, opts, on_choice)
    result.action_titles = vim.tbl_map(opts.format_item, items)
    on_choice(nil, nil)
  end
  vim.lsp.buf.code_action()
  vim.wait(5000, function()
    return result.action_titles ~= nil
  end, 20)
  result.action_titles = result.action_titles or {} -- none offered: no menu opens
  table.insert(result.steps, "code action")

  -- B2. `#diagnostics` in a prompt: the diagnostics of the asked lines (here the whole buffer) go with it
  vim.cmd("SmallCode ask why is this flagged? #diagnostics")
  result.diagnostics_float = take_float("SmallCode: ask")
  table.insert(result.steps, "ask #diagnostics")

  -- C. trace list and sessions picker
  vim.cmd("SmallCode trace")
  result.trace_float = take_float("SmallCode: trace")
  vim.ui.select = function(items, opts, on_choice)
    result.session_items = vim.tbl_map(opts.format_item, items)
    on_choice(nil, nil)
  end
  vim.cmd("SmallCode sessions")
  wait("the sessions picker", 10000, function()
    return result.session_items ~= nil
  end)
  table.insert(result.steps, "lists")

  -- D. plan lenses
  vim.cmd.edit(env.SC_PLAN)
  local plan = vim.api.nvim_get_current_buf()
  wait("the plan lenses", 10000, function()
    return #vim.lsp.codelens.get(plan) > 0
  end)
  result.plan_lenses = lens_titles(plan)
  run_lens(plan, "○ step 1")
  result.state_float = take_float("SmallCode: plan", 10000)
  run_lens(plan, "▶ Run step")
  result.step_float = take_float("SmallCode: step", 10000)
  table.insert(result.steps, "plan")
  h.finish(true, "ok")
end)
