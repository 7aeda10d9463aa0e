-- Headless Neovim: attach smallcode-lsp to a file, run the "Ask SmallCode…" code action on a selection as a
-- user would (picking it from the menu), and wait for the agent's edit to change the buffer.
-- Inputs (environment): NVIM_TEST_FILE, NVIM_TEST_PYTHON, NVIM_TEST_BASE_URL, NVIM_TEST_LOG, NVIM_TEST_RESULT.
local env = vim.env
local result = { steps = {} }

local function finish(ok, message)
  result.ok = ok
  result.message = message
  result.lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  result.disk = vim.fn.filereadable(env.NVIM_TEST_FILE) == 1 and vim.fn.readfile(env.NVIM_TEST_FILE) or {}
  local handle = io.open(env.NVIM_TEST_RESULT, "w")
  handle:write(vim.json.encode(result))
  handle:close()
  vim.cmd(ok and "qall!" or "cquit! 1")
end

local ok, err = pcall(function()
  vim.cmd.edit(env.NVIM_TEST_FILE)
  local bufnr = vim.api.nvim_get_current_buf()
  local root = vim.fs.dirname(env.NVIM_TEST_FILE)
  local client_id = vim.lsp.start({
    name = "smallcode",
    cmd = { env.NVIM_TEST_PYTHON, "-m", "lsp_server", "--log-file", env.NVIM_TEST_LOG },
    root_dir = root,
    init_options = { baseUrl = env.NVIM_TEST_BASE_URL, model = "scripted-model", applyMode = "auto", retries = 0 },
  })
  if not vim.wait(15000, function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.initialized
  end, 20) then
    return finish(false, "the server did not initialize")
  end
  table.insert(result.steps, "initialized")

  -- a user picks the action from the menu
  local offered = {}
  vim.ui.select = function(items, opts, on_choice)
    for i, item in ipairs(items) do
      local action = item.action or item[2] or item
      table.insert(offered, action.title)
      if action.title and action.title:find("Ask SmallCode", 1, true) then
        return on_choice(item, i)
      end
    end
    on_choice(nil, nil)
  end
  vim.lsp.buf.code_action({ range = { start = { 1, 0 }, ["end"] = { 2, 0 } } })

  local changed = vim.wait(30000, function()
    local text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
    return text:find("return a + b", 1, true) ~= nil
  end, 50)
  result.offered = offered
  if not changed then
    return finish(false, "the buffer did not change")
  end
  table.insert(result.steps, "buffer changed")
  -- then the file: this Neovim has no smallcode/saveDocuments, so the server writes it (the buffer was unmodified)
  vim.wait(15000, function()
    return table.concat(vim.fn.readfile(env.NVIM_TEST_FILE), "\n"):find("return a + b", 1, true) ~= nil
  end, 50)
  finish(true, "ok")
end)
if not ok then
  finish(false, tostring(err))
end
