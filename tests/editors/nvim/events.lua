-- For the terminal-UI test scripts (tui.lua, ghost.lua): puts neovim-plugin/ on the runtimepath and returns
-- event(name), which appends "<unix time> <name>" to SC_EVENTS, so the test can time what the user sees.
vim.opt.runtimepath:prepend(vim.env.SC_PLUGIN)
local events = assert(io.open(vim.env.SC_EVENTS, "a"))

return function(name)
  local sec, usec = vim.uv.gettimeofday()
  events:write(string.format("%d.%06d %s\n", sec, usec, name))
  events:flush()
end
