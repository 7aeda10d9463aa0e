-- Headless Neovim with neovim-plugin/ on the runtimepath, against the real server and the scripted model:
--   1. :2,3SmallCode ask fix the bug in add    (a range and a prompt) -> the buffer changes
--   2. the `agent:` comment's code lens, run with vim.lsp.codelens.run() -> the buffer changes
--   3. the "Ask SmallCode…" code action, the prompt typed into vim.ui.input -> the buffer changes
--   4. :SmallCode budget -> a floating window with the context budget
--   5. :SmallCode model -> vim.ui.select offers the server's models; the answer in a floating window
--   6. :SmallCode undo -> the code action's edit is reverted in the buffer and on disk
-- Inputs (environment): SC_PLUGIN, SC_FILE, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_RESULT, SC_LEGACY (SC_SCREEN:
-- stop after step 1 with the budget window open, for a screenshot).
-- Writes what it saw to SC_RESULT as JSON.
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "harness.lua")
local env, result, text, take_float = vim.env, h.result, h.text, h.take_float
if #vim.api.nvim_list_uis() == 0 then
  vim.o.columns, vim.o.lines = 120, 40 -- headless: a screen size for the floating windows
end

h.run(function()
  local smallcode, bufnr = h.start({ applyMode = "auto" }, { legacy_start = env.SC_LEGACY == "1" }, 20000)
  table.insert(result.steps, "attached")
  result.completion = vim.fn.getcompletion("SmallCode b", "cmdline")

  -- 1. ask with a range and a prompt
  vim.cmd("2,3SmallCode ask fix the bug in add")
  result.ask_float = take_float("SmallCode: ask")
  result.after_ask = text(bufnr)
  -- saved by the plugin when the server asked (smallcode/saveDocuments)
  result.modified_after_ask = vim.bo[bufnr].modified
  result.disk_after_ask = h.disk()
  table.insert(result.steps, "ask")
  if env.SC_SCREEN then
    -- for the screenshot (tests/editors/screenshots.py): the fixed buffer, its lens, the budget window
    h.wait("the code lenses", 10000, function()
      return #vim.lsp.codelens.get(bufnr) > 0
    end)
    vim.cmd("SmallCode budget")
    return
  end

  -- 2. the agent: comment's lens
  h.wait("the code lenses", 10000, function()
    local lenses = vim.lsp.codelens.get(bufnr)
    return #lenses > 0 and lenses[1].command ~= nil
  end)
  result.lenses = vim.tbl_map(function(l)
    return l.command.title
  end, vim.lsp.codelens.get(bufnr))
  local lens_line
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    if lens.command.title:find("Ask SmallCode", 1, true) then
      lens_line = lens.range.start.line
    end
  end
  vim.api.nvim_win_set_cursor(0, { lens_line + 1, 0 })
  vim.lsp.codelens.run()
  take_float("SmallCode: ask")
  result.after_lens = text(bufnr)
  table.insert(result.steps, "lens")

  -- 3. the code action, with the prompt typed into the input box
  vim.ui.select = function(items, _, on_choice)
    for i, item in ipairs(items) do
      local action = item.action or item[2] or item
      if action.title and action.title:find("Ask SmallCode", 1, true) then
        return on_choice(item, i)
      end
    end
    on_choice(nil, nil)
  end
  vim.ui.input = function(opts, on_confirm)
    result.input_prompt = opts.prompt
    on_confirm("rename add to plus")
  end
  vim.lsp.buf.code_action({ range = { start = { 1, 0 }, ["end"] = { 2, 0 } } })
  take_float("SmallCode: ask")
  result.after_action = text(bufnr)
  table.insert(result.steps, "code action")

  -- 4. budget in a floating window
  vim.cmd("SmallCode budget")
  result.budget_float = take_float("SmallCode: budget")
  table.insert(result.steps, "budget")

  -- 5. model: a choice among the server's models
  vim.ui.select = function(items, opts, on_choice)
    result.model_choices = vim.tbl_map(opts.format_item, items)
    on_choice(items[1], 1)
  end
  vim.cmd("SmallCode model")
  result.model_float = take_float("SmallCode: model")
  table.insert(result.steps, "model")

  -- argument completion: the server's models, trace subcommands and the ids of the runs so far
  result.model_completion = vim.fn.getcompletion("SmallCode model ", "cmdline")
  result.trace_words = vim.fn.getcompletion("SmallCode trace s", "cmdline")
  result.trace_ids = vim.fn.getcompletion("SmallCode trace show ", "cmdline")
  result.trace_list = vim.fn.getcompletion("SmallCode trace", "cmdline")

  -- 6. undo: the code action's turn is reverted in the buffer (a workspace edit), and saved
  vim.cmd("SmallCode undo")
  result.undo_float = take_float("SmallCode: undo")
  result.after_undo = text(bufnr)
  result.disk_after_undo = h.disk()
  table.insert(result.steps, "undo")
  h.finish(true, "ok")
end)
