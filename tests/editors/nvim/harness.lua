-- For the headless test scripts (plugin.lua, review.lua, hunks.lua, failed_ask.lua): puts neovim-plugin/ on the
-- runtimepath and returns what they share: the result written to SC_RESULT, the server started on SC_FILE, the
-- buffer's and the disk's text, waiting, and the floating windows.
-- Inputs (environment): SC_PLUGIN, SC_FILE, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_RESULT.
local env = vim.env
vim.opt.runtimepath:prepend(env.SC_PLUGIN)

local M = { result = { steps = {} } }

--- Write M.result (with ok and message) to SC_RESULT as JSON and quit; Neovim exits 1 when not ok.
function M.finish(ok, message)
  local result = M.result
  result.ok = ok
  result.message = message
  local handle = io.open(env.SC_RESULT, "w")
  handle:write(vim.json.encode(result))
  handle:close()
  vim.cmd(ok and "qall!" or "cquit! 1")
end

--- Run the script's body; an error in it finishes with ok false and the error (the body finishes when done).
function M.run(body)
  local ok, err = pcall(body)
  if not ok then
    M.finish(false, tostring(err))
  end
end

function M.wait(what, ms, cond)
  if not vim.wait(ms, cond, 20) then
    error("timed out waiting for " .. what)
  end
end

--- The plugin set up against the real server and the scripted model (`settings` and `options` added to the
--- defaults), SC_FILE edited; once the server is attached (within `ms`): the plugin and the buffer.
function M.start(settings, options, ms)
  local smallcode = require("smallcode")
  smallcode.setup(vim.tbl_extend("force", {
    cmd = { env.SC_PYTHON, "-m", "lsp_server", "--log-file", env.SC_LOG },
    settings = vim.tbl_extend(
      "force",
      { baseUrl = env.SC_BASE_URL, model = "scripted-model", retries = 0, completion = false },
      settings or {}
    ),
  }, options or {}))
  vim.cmd.edit(env.SC_FILE)
  local bufnr = vim.api.nvim_get_current_buf()
  M.wait("the server", ms or 90000, function() -- a loaded machine starts it slowly
    local client = smallcode.client(bufnr)
    return client ~= nil and client.initialized and client.server_capabilities ~= nil
  end)
  return smallcode, bufnr
end

--- The buffer's lines, joined.
function M.text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
end

--- SC_FILE's lines on disk, joined.
function M.disk()
  return table.concat(vim.fn.readfile(env.SC_FILE), "\n")
end

--- The lines of the floating window with this title once it opens (within `ms`), which is then closed.
function M.take_float(title, ms)
  local float = require("smallcode.float")
  M.wait("the " .. title .. " window", ms or 30000, function()
    return float.last ~= nil and float.last.title == title and vim.api.nvim_win_is_valid(float.last.win)
  end)
  local lines = vim.api.nvim_buf_get_lines(float.last.buf, 0, -1, false)
  float.close()
  return lines
end

return M
