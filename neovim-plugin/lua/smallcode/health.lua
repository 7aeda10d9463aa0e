-- :checkhealth smallcode — what a new user needs to know when nothing happens: the Neovim version, whether
-- setup() ran, whether the server command can start, whether a server is attached, and whether the model
-- server it is configured for answers (asked through the running server; the embedded model is not started
-- just for this).
local M = {}

local health = vim.health or require("health")
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local error = health.error or health.report_error
local info = health.info or health.report_info

local function version()
  local v = vim.version()
  return string.format("%d.%d.%d", v.major, v.minor, v.patch)
end

local function request_sync(client, method, params, timeout, bufnr)
  return require("smallcode.compat").call(client, "request_sync", method, params, timeout, bufnr)
end

local function check_neovim()
  start("Neovim")
  if vim.fn.has("nvim-0.10") == 1 then
    ok("Neovim " .. version())
  elseif vim.fn.has("nvim-0.8") == 1 then
    warn("Neovim " .. version() .. ": supported through start_client (0.8/0.9)", { "Neovim 0.10 or newer is best" })
  else
    error("Neovim " .. version() .. " is too old", { "SmallCode needs Neovim 0.8 or newer" })
  end
end

local function check_setup(smallcode)
  start("Setup")
  if not smallcode.configured then
    warn("require('smallcode').setup() has not run", {
      "add require('smallcode').setup({ settings = { baseUrl = …, model = … } }) to your config",
    })
  else
    ok("setup() ran")
  end
  local cmd = smallcode.config.cmd or {}
  local exe = cmd[1]
  if exe and vim.fn.executable(exe) == 1 then
    ok("server command: " .. table.concat(cmd, " ") .. " (" .. vim.fn.exepath(exe) .. ")")
  else
    error("server command not found: " .. tostring(exe), {
      "pip install smallcode (it installs smallcode-lsp), or set cmd = { '/path/to/python', '-m', 'lsp_server' }",
    })
  end
  local settings = smallcode.config.settings or {}
  if settings.baseUrl then
    info("model server: " .. settings.baseUrl .. (settings.model and (" (model " .. settings.model .. ")") or ""))
  else
    info("no baseUrl: the embedded model starts on the first ask (SMALLCODE_BASE_URL may still set one)")
  end
end

local function check_server(smallcode)
  start("Server")
  local client = smallcode.client()
  if not client then
    warn("no SmallCode server is running", {
      "open a file of the project (it starts on FileType / BufReadPost); see :LspLog if it exits",
    })
    return
  end
  ok(string.format("server running (client id %d, root %s)", client.id, client.root_dir or client.config.root_dir or "?"))
  local settings = smallcode.config.settings or {}
  if not settings.baseUrl then
    return -- asking would start the embedded model
  end
  local response = request_sync(client, "workspace/executeCommand", { command = "smallcode.model", arguments = {} }, 10000)
  local reply = response and response.result
  if not reply then
    local why = response and response.err and response.err.message or "no answer in 10 s"
    error("the server did not answer smallcode.model: " .. why)
    return
  end
  local available = reply.data and reply.data.available or {}
  local first = vim.split(reply.text or "", "\n", { plain = true })[1]
  if #available > 0 then
    ok(first .. " — the model server answers (" .. #available .. " model(s))")
  else
    error("the model server at " .. settings.baseUrl .. " does not answer", { reply.text or "" })
  end
end

function M.check()
  local smallcode = require("smallcode")
  check_neovim()
  check_setup(smallcode)
  check_server(smallcode)
end

return M
