-- Headless Neovim: :checkhealth smallcode, before setup() and with the server attached (SC_BAD_CMD: a server
-- command that does not exist instead). Writes the health buffer's lines to SC_RESULT as JSON.
local env = vim.env
local result = {}
vim.opt.runtimepath:prepend(env.SC_PLUGIN)

local function health_lines()
  vim.cmd("checkhealth smallcode")
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd("bwipeout!")
  return lines
end

local done, err = pcall(function()
  local smallcode = require("smallcode")
  result.before_setup = health_lines()
  local cmd = env.SC_BAD_CMD and { env.SC_BAD_CMD } or { env.SC_PYTHON, "-m", "lsp_server", "--log-file", env.SC_LOG }
  smallcode.setup({ cmd = cmd, settings = { baseUrl = env.SC_BASE_URL, model = "scripted-model", retries = 0 } })
  vim.cmd.edit(env.SC_FILE)
  if not env.SC_BAD_CMD then
    local bufnr = vim.api.nvim_get_current_buf()
    assert(vim.wait(20000, function()
      local client = smallcode.client(bufnr)
      return client ~= nil and client.initialized and client.server_capabilities ~= nil
    end, 20), "the server did not start")
  end
  result.after_setup = health_lines()
end)
result.ok = done
result.message = err and tostring(err) or nil
local handle = io.open(env.SC_RESULT, "w")
handle:write(vim.json.encode(result))
handle:close()
vim.cmd("qall!")
