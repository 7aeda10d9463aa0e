-- Headless Neovim with neovim-plugin/ against the real server whose model server is down: `:SmallCode ask`
-- answers ok=false, and the answer window says so with the error.
-- Inputs (environment): SC_PLUGIN, SC_FILE, SC_PYTHON, SC_BASE_URL, SC_LOG, SC_RESULT.
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "harness.lua")
vim.o.columns, vim.o.lines = 120, 40

h.run(function()
  h.start(nil, nil, 60000)
  vim.cmd("SmallCode ask fix add")
  h.result.lines = h.take_float("SmallCode: ask", 60000)
  h.finish(true)
end)
