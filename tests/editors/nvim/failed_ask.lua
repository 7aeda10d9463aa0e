-- Headless Neovim with neovim-plugin/ against the real server whose model server is down: `:SmallCode ask`
-- answers ok=false, and the answer window says so with the error.
-- Inputs (environment): SC_PLUGIN, SC_FILE, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_RESULT.
local env = vim.env
local result = {}
vim.opt.runtimepath:prepend(env.SC_PLUGIN)
vim.o.columns, vim.o.lines = 120, 40

local function finish(ok, message)
  result.ok = ok
  result.message = message
  local handle = io.open(env.SC_RESULT, "w")
  handle:write(vim.json.encode(result))
  handle:close()
  vim.cmd(ok and "qall!" or "cquit! 1")
end

local function wait(what, ms, cond)
  if not vim.wait(ms, cond, 20) then
    error("timed out waiting for " .. what)
  end
end

local ok, err = pcall(function()
  local smallcode = require("smallcode")
  smallcode.setup({
    cmd = { env.SC_PYTHON, "-m", "lsp_server", "--log-file", env.SC_LOG },
    settings = { baseUrl = env.SC_BASE_URL, model = "scripted-model", retries = 0, completion = false },
  })
  vim.cmd.edit(env.SC_FILE)
  local bufnr = vim.api.nvim_get_current_buf()
  wait("the server", 60000, function() -- a loaded machine starts it slowly
    local client = smallcode.client(bufnr)
    return client ~= nil and client.initialized and client.server_capabilities ~= nil
  end)
  vim.cmd("SmallCode ask fix add")
  local float = require("smallcode.float")
  wait("the answer", 60000, function()
    return float.last ~= nil and vim.api.nvim_win_is_valid(float.last.win) and float.last.title == "SmallCode: ask"
  end)
  result.lines = vim.api.nvim_buf_get_lines(float.last.buf, 0, -1, false)
end)
finish(ok, ok and nil or tostring(err))
