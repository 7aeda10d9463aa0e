-- Calling an LSP client's methods across Neovim versions: 0.11 made them methods (client:request(...)),
-- 0.8–0.10 have plain functions (client.request(...)).
local M = {}

local methods = vim.fn.has("nvim-0.11") == 1

--- client:NAME(...) on 0.11+, client.NAME(...) before.
function M.call(client, name, ...)
  if methods then
    return client[name](client, ...)
  end
  return client[name](...)
end

return M
