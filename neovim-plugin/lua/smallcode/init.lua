-- SmallCode for Neovim: starts the SmallCode language server and adds :SmallCode {subcommand}.
--
--   require('smallcode').setup({ settings = { baseUrl = 'http://localhost:1234/v1', model = 'qwen2.5-coder' } })
--
-- Code lenses (agent: comments, plan steps) and code actions ("Ask SmallCode…") come from the server through
-- Neovim's built-in client; this plugin asks for the prompt when they carry none and shows the answer.
local chat = require("smallcode.chat")
local compat = require("smallcode.compat")
local float = require("smallcode.float")
local ghost = require("smallcode.ghost")
local render = require("smallcode.render")
local review = require("smallcode.review")

local M = {}

--- Slash commands the server answers as smallcode.<name> (lsp_server/features/commands.py SLASH_COMMANDS).
M.slash_commands = {
  "budget", "clear", "cognition", "eval", "help", "mcp", "memory", "model", "plan", "plugin", "profile",
  "sessions", "skill", "stats", "tokens", "trace", "undo",
}
--- The plugin's own subcommands beside them.
M.own_commands = { "ask", "chat", "diff", "cancel" }

local defaults = {
  --- The server command line.
  cmd = { "smallcode-lsp" },
  --- Filetypes to attach to (nil: every buffer with a file).
  filetypes = nil,
  --- Files whose directory is the project root (else the current directory).
  root_markers = { "smallcode.toml", ".git", "pyproject.toml", "package.json", "Cargo.toml", "go.mod" },
  --- Server options, camelCase as the server names them (model, baseUrl, applyMode, maxTurns, …); sent as
  --- initializationOptions and as the `smallcode` configuration section.
  settings = {},
  --- Refresh code lenses on BufEnter, InsertLeave and BufWritePost.
  codelens = true,
  --- Start with vim.lsp.start_client + buf_attach_client (what 0.8/0.9 use) even on 0.10+.
  legacy_start = false,
  --- Ghost text from the local model while typing (Neovim 0.10+; the server's `completion` setting turns the
  --- model's side off): accept_key puts it in (falls through to the key's own action when none is shown),
  --- dismiss_key drops it; moving, typing on or leaving insert mode drops it too.
  ghost_text = { enabled = true, accept_key = "<Tab>", dismiss_key = "<C-]>", debounce_ms = 150, hl = "Comment" },
  --- Per-hunk review of the agent's edits (the server's smallcode/review request): the keys of the review
  --- buffer and how it opens (lua/smallcode/review.lua); `review = false` leaves the server's older way (one
  --- workspace edit, applied as it comes).
  review = vim.deepcopy(review.defaults),
  --- The chat buffer (:SmallCode chat): its keys, how it opens and its width (lua/smallcode/chat.lua).
  chat = vim.deepcopy(chat.defaults),
  --- Show a run's progress (each tool step, the outcome) in the echo area (0.10+, the LspProgress event);
  --- statuslines can use vim.lsp.status() instead, which holds the same messages.
  progress = true,
}

M.config = vim.deepcopy(defaults)
local clients_by_root = {} -- legacy path: one client per root
local streams = {} -- runId -> streamed model text

local function has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

local function notify(message, level)
  vim.notify("SmallCode: " .. message, level or vim.log.levels.INFO)
end

local function request(client, method, params, handler, bufnr)
  return compat.call(client, "request", method, params, handler, bufnr)
end

local function get_clients(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = "smallcode", bufnr = bufnr })
  end
  local found = {}
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    if client.name == "smallcode" then
      table.insert(found, client)
    end
  end
  return found
end

--- The SmallCode client of a buffer (or of any buffer), or nil.
function M.client(bufnr)
  local client = get_clients(bufnr or vim.api.nvim_get_current_buf())[1]
  if client then
    return client
  end
  local all = vim.lsp.get_clients and vim.lsp.get_clients({ name = "smallcode" }) or vim.lsp.get_active_clients({ name = "smallcode" })
  return all[1]
end

local function root_of(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= "" and vim.fs.dirname(name) or vim.fn.getcwd()
  local marker = vim.fs.find(M.config.root_markers, { upward = true, path = dir })[1]
  return marker and vim.fs.dirname(marker) or vim.fn.getcwd()
end

local function refresh_lenses(bufnr)
  if has("0.10") then
    vim.lsp.codelens.refresh({ bufnr = bufnr })
  elseif vim.api.nvim_get_current_buf() == bufnr then
    vim.lsp.codelens.refresh()
  end
end

--- Every source's diagnostics on lines first..last (0-based) of a buffer, as LSP Diagnostics.
local function diagnostics_on(bufnr, first, last)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp = type(d.user_data) == "table" and d.user_data.lsp or nil
    if d.lnum <= last and (d.end_lnum or d.lnum) >= first then
      table.insert(found, lsp or {
        range = {
          start = { line = d.lnum, character = d.col or 0 },
          ["end"] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col or 0 },
        },
        message = d.message,
        severity = d.severity,
        source = d.source,
        code = d.code,
      })
    end
  end
  return found
end

--- Neovim 0.11 sends a server only its own diagnostics in a code-action request, and SmallCode publishes
--- none: add every source's diagnostics on the requested lines, so "fix this" actions can be offered.
local function add_diagnostics_to_code_actions(client)
  if client.smallcode_diagnostics_hooked then
    return
  end
  client.smallcode_diagnostics_hooked = true
  local original = client.request
  local function widen(method, params, bufnr)
    if method ~= "textDocument/codeAction" or type(params) ~= "table" or type(params.context) ~= "table" then
      return
    end
    if params.context.diagnostics and #params.context.diagnostics > 0 then
      return
    end
    local buf = (bufnr and bufnr ~= 0) and bufnr or vim.uri_to_bufnr(params.textDocument.uri)
    params.context.diagnostics = diagnostics_on(buf, params.range.start.line, params.range["end"].line)
  end
  if has("0.11") then
    client.request = function(self, method, params, handler, bufnr)
      widen(method, params, bufnr)
      return original(self, method, params, handler, bufnr)
    end
  else
    client.request = function(method, params, handler, bufnr)
      widen(method, params, bufnr)
      return original(method, params, handler, bufnr)
    end
  end
end

local function on_attach(client, bufnr)
  local caps = client.server_capabilities or {}
  add_diagnostics_to_code_actions(client)
  if M.config.codelens and caps.codeLensProvider then
    local group = vim.api.nvim_create_augroup("smallcode_codelens_" .. bufnr, { clear = true })
    vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave", "BufWritePost" }, {
      group = group,
      buffer = bufnr,
      callback = function()
        refresh_lenses(bufnr)
      end,
    })
    refresh_lenses(bufnr)
  end
  if M.config.ghost_text.enabled and caps.inlineCompletionProvider and has("0.10") then
    ghost.attach(client, bufnr, M.config.ghost_text)
  end
  if M.config.on_attach then
    M.config.on_attach(client, bufnr)
  end
end

--- smallcode/saveDocuments: after the editor applied an agent edit, the server asks to save those buffers, so
--- the agent's tests and shell read the new text from disk. Answers the uris written (others: the server decides).
function M.save_documents(_, params)
  local saved = {}
  for _, uri in ipairs((params or {}).uris or {}) do
    local bufnr = vim.fn.bufnr(vim.uri_to_fname(uri))
    if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
      local ok = true
      if vim.bo[bufnr].modified then
        ok = pcall(vim.api.nvim_buf_call, bufnr, function()
          vim.cmd("silent lockmarks write")
        end)
      end
      if ok and not vim.bo[bufnr].modified then
        table.insert(saved, uri)
      end
    end
  end
  return { saved = saved }
end

--- Neovim's client capabilities, plus inline completion when the plugin shows ghost text (so the server answers
--- inlineCompletion and leaves the completion menu alone instead of offering the same text twice).
local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  if M.config.ghost_text.enabled and has("0.10") then
    caps.textDocument = caps.textDocument or {}
    caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  end
  if M.config.review.enabled ~= false then -- the server asks smallcode/review before any edit
    caps.experimental = caps.experimental or {}
    caps.experimental.smallcode = { review = true }
  end
  return caps
end

local function client_config(root)
  return {
    name = "smallcode",
    cmd = M.config.cmd,
    root_dir = root,
    init_options = M.config.settings,
    settings = { smallcode = M.config.settings },
    handlers = {
      ["smallcode/saveDocuments"] = M.save_documents,
      ["smallcode/review"] = review.handler,
      ["smallcode/stream"] = function(_, params)
        if params and params.runId then
          streams[params.runId] = (streams[params.runId] or "") .. (params.text or "")
        end
        chat.on_stream(params)
      end,
      ["smallcode/step"] = function(_, params)
        chat.on_step(params)
      end,
    },
    on_attach = on_attach,
    on_exit = function()
      vim.schedule(function() -- the server is gone: nothing waits for a review or a chat's answer any more
        review.close_all(false)
        if chat.current then
          chat.finish(chat.current, { ok = false, error = "the server stopped", text = "", data = {} })
        end
      end)
    end,
    capabilities = capabilities(),
  }
end

--- Start the server for a buffer (or attach the running one); returns the client id.
function M.start(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local root = root_of(bufnr)
  if has("0.10") and not M.config.legacy_start then
    return vim.lsp.start(client_config(root), { bufnr = bufnr })
  end
  -- 0.8/0.9: no reuse by vim.lsp.start's rules there, so keep one client per root ourselves
  local id = clients_by_root[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or (client.is_stopped and client.is_stopped()) then
    id = vim.lsp.start_client(client_config(root))
    clients_by_root[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

local function wanted(bufnr)
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return false
  end
  local filetypes = M.config.filetypes
  return filetypes == nil or vim.tbl_contains(filetypes, vim.bo[bufnr].filetype)
end

--- Run smallcode.<name> with `arg` (nil, a string of words, or a table); `done(reply)` gets {data, text, ok};
--- `failed(message)`, if given, is called when no reply comes (no server, an error answer).
function M.execute(name, arg, done, bufnr, failed)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  failed = failed or function() end
  if not client then
    notify("the server is not running here (see :checkhealth vim.lsp and :LspLog)", vim.log.levels.ERROR)
    return failed("the server is not running")
  end
  local params = { command = "smallcode." .. name, arguments = arg ~= nil and { arg } or {} }
  request(client, "workspace/executeCommand", params, function(err, reply)
    if err then
      local message = err.message or vim.inspect(err)
      notify(name .. " failed: " .. message, vim.log.levels.ERROR)
      return failed(message)
    end
    if type(reply) ~= "table" then
      reply = { data = {}, text = tostring(reply), ok = true }
    end
    done(reply)
  end, bufnr)
end

local function range_arg(line1, line2)
  return { start = { line = line1 - 1, character = 0 }, ["end"] = { line = line2 - 1, character = 0 } }
end

--- `#diagnostics` in a prompt: every source's diagnostics on the asked lines (the whole buffer without a range)
--- go with the request, as a code action's do.
local function add_referenced_diagnostics(arg, bufnr)
  if type(arg.prompt) ~= "string" or not arg.prompt:find("#diagnostics", 1, true) then
    return
  end
  if arg.diagnostics and #arg.diagnostics > 0 then
    return
  end
  local first, last = 0, vim.api.nvim_buf_line_count(bufnr) - 1
  if arg.range then
    first, last = arg.range.start.line, arg.range["end"].line
  end
  arg.diagnostics = diagnostics_on(bufnr, first, last)
end

--- Every ask goes here (the command, code actions, lenses, the chat): a turn in the chat's transcript, whose
--- steps and streamed text the chat shows as they come; the answer in a floating window unless the chat asked.
local function run_ask(arg, bufnr, from_chat)
  add_referenced_diagnostics(arg, bufnr)
  local turn = chat.begin(
    arg.prompt
      or (arg.source == "comment" and "(the agent: comment)")
      or (arg.diagnostics and #arg.diagnostics > 0 and "(fix the error)")
      or "(ask)"
  )
  local function ended(reply)
    chat.finish(turn, reply)
    review.close_all(false) -- a review the run left open (it timed out or was cancelled) has no taker
  end
  M.execute("ask", arg, function(reply)
    ended(reply)
    if not from_chat then
      float.show("SmallCode: ask", render.ask(reply))
    end
    refresh_lenses(bufnr)
  end, bufnr, function(message)
    ended({ ok = false, error = message, text = "", data = {} })
  end)
end

--- Stop the running ask: a pending review is closed (rejecting it and asking the server to stop), then
--- smallcode.cancel.
function M.cancel(done)
  review.close_all(true)
  M.execute("cancel", nil, done or function(reply)
    notify(reply.text)
  end)
end

--- A new conversation: smallcode.clear, and the chat's transcript empties.
function M.clear(done)
  M.execute("clear", nil, function(reply)
    chat.reset()
    if done then
      done(reply)
    end
  end)
end

local chat_source -- the file buffer :SmallCode chat was opened from (its file goes with the chat's asks)

--- :SmallCode chat [prompt]: open (or focus) the chat buffer; a prompt is sent at once.
function M.chat(prompt)
  local current = vim.api.nvim_get_current_buf()
  if vim.bo[current].buftype == "" and vim.api.nvim_buf_get_name(current) ~= "" then
    chat_source = current
  end
  chat.open()
  if prompt and prompt ~= "" then
    chat.send_prompt(prompt)
  end
end

chat.send_prompt = function(prompt)
  local bufnr = (chat_source and vim.api.nvim_buf_is_valid(chat_source)) and chat_source or nil
  local arg = { prompt = prompt }
  if bufnr then
    arg.uri = vim.uri_from_bufnr(bufnr)
  end
  run_ask(arg, bufnr or vim.api.nvim_get_current_buf(), true)
end
chat.stop_run = function()
  M.cancel()
end
chat.new_conversation = function()
  M.clear(function(reply)
    notify(reply.text ~= "" and reply.text or "new conversation")
  end)
end

--- :SmallCode ask [prompt] (with a range: those lines are the context). No prompt: vim.ui.input asks.
function M.ask(prompt, line1, line2, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local arg = { uri = vim.uri_from_bufnr(bufnr) }
  if line1 then
    arg.range = range_arg(line1, line2 or line1)
  end
  if prompt and prompt ~= "" then
    arg.prompt = prompt
    return run_ask(arg, bufnr)
  end
  vim.ui.input({ prompt = "Ask SmallCode: " }, function(input)
    if input and input ~= "" then
      arg.prompt = input
      run_ask(arg, bufnr)
    end
  end)
end

local function pick(name, items, format, to_arg, prompt)
  if #items == 0 then
    return false
  end
  vim.ui.select(items, { prompt = prompt, format_item = format }, function(choice)
    if choice ~= nil then
      M.execute(name, to_arg(choice), function(reply)
        float.show("SmallCode: " .. name, render.command(reply))
      end)
    end
  end)
  return true
end

--- :SmallCode <slash command> [words]: the answer in a floating window; model and sessions offer a choice.
function M.command(name, words)
  if name == "diff" then
    return M.execute("diff", nil, function(reply)
      float.show("SmallCode: diff", render.diff(reply), "diff")
    end)
  end
  local arg = (words and words ~= "") and words or nil
  M.execute(name, arg, function(reply)
    if name == "clear" and reply.ok ~= false then
      chat.reset()
    end
    local data = type(reply.data) == "table" and reply.data or {}
    if arg == nil and name == "model" and type(data.available) == "table" then
      if pick("model", data.available, function(m)
        return m == data.model and (m .. "  (current)") or m
      end, function(m)
        return { name = m }
      end, "Switch the model") then
        return
      end
    elseif arg == nil and name == "sessions" and type(data.sessions) == "table" then
      if pick("sessions", data.sessions, function(s)
        return render.one_line(string.format("%s  %s msgs  %s", s.id, s.messages or "?", s.task or ""), 100)
      end, function(s)
        return { action = "resume", id = s.id }
      end, "Resume a session") then
        return
      end
    end
    float.show("SmallCode: " .. name, render.command(reply))
  end)
end

--- The words a subcommand takes next, where they are fixed.
local SUBWORDS = {
  trace = { "list", "show", "export", "html", "test" },
  memory = { "add", "clear" },
  undo = { "list", "redo", "run", "to" },
}

--- A command's data from the server, asked synchronously (for completion: at most 1.5 s), or {}.
local function server_data(name)
  local client = M.client()
  if not client then
    return {}
  end
  local params = { command = "smallcode." .. name, arguments = {} }
  local ok, response = pcall(compat.call, client, "request_sync", "workspace/executeCommand", params, 1500, 0)
  local reply = ok and response and response.result
  return type(reply) == "table" and type(reply.data) == "table" and reply.data or {}
end

--- What the argument being typed can be: the server's model names after `model` (only with a baseUrl: asking
--- the embedded default would start it), trace ids after `trace show|export|html|test`, fixed words elsewhere.
local function argument_choices(words, position)
  local sub = words[2]
  if position == 3 and sub == "model" and (M.config.settings or {}).baseUrl then
    return server_data("model").available or {}
  end
  if position == 3 and SUBWORDS[sub] then
    return SUBWORDS[sub]
  end
  if position == 4 and sub == "trace" and words[3] ~= "list" then
    return vim.tbl_map(function(t)
      return t.id
    end, server_data("trace").traces or {})
  end
  return {}
end

local function complete(arglead, cmdline)
  local words = vim.split(cmdline, "%s+", { trimempty = true })
  local position = #words + (arglead == "" and 1 or 0) -- 2: the subcommand, 3: its first argument, …
  local choices = position == 2 and vim.list_extend(vim.deepcopy(M.own_commands), M.slash_commands)
    or argument_choices(words, position)
  return vim.tbl_filter(function(name)
    return type(name) == "string" and name:sub(1, #arglead) == arglead
  end, choices)
end

local function user_command(opts)
  local sub = opts.fargs[1]
  local rest = table.concat(vim.list_slice(opts.fargs, 2), " ")
  if sub == nil then
    return M.command("help")
  end
  if sub == "ask" then
    if opts.range > 0 then
      return M.ask(rest, opts.line1, opts.line2)
    end
    return M.ask(rest)
  end
  if sub == "cancel" then
    return M.cancel()
  end
  if sub == "chat" then
    return M.chat(rest)
  end
  if not vim.tbl_contains(M.slash_commands, sub) and sub ~= "diff" then
    return notify("unknown subcommand " .. sub .. " (try :SmallCode help)", vim.log.levels.WARN)
  end
  M.command(sub, rest)
end

--- Leave Visual (or Select) mode. After the default vim.ui.select (inputlist()) in Visual mode, Neovim's
--- terminal UI runs no scheduled callback until a key is typed or 'updatetime' passes, so the server's
--- requests (workspace/applyEdit, progress, saving) would wait seconds for an answer. The action carries
--- its range already.
local function leave_visual()
  if vim.api.nvim_get_mode().mode:match("^[vVsS\22\19]") then
    vim.cmd("normal! \27")
  end
end

--- smallcode.ask from a code lens or code action: ask for a prompt when it carries none (comment lenses do).
local function ask_from_server(command, ctx)
  local arg = vim.deepcopy((command.arguments or {})[1] or {})
  local bufnr = ctx.bufnr or vim.api.nvim_get_current_buf()
  leave_visual()
  if (arg.prompt == nil or arg.prompt == "") and arg.source ~= "comment" then
    local hint = (arg.diagnostics and #arg.diagnostics > 0) and " (empty: fix the error)" or ""
    vim.ui.input({ prompt = "Ask SmallCode" .. hint .. ": " }, function(input)
      if input == nil then
        return
      end
      arg.prompt = input ~= "" and input or nil
      run_ask(arg, bufnr)
    end)
    return
  end
  run_ask(arg, bufnr)
end

--- A lens command whose answer is shown: a plan step's run/retry/skip, and the step's state lens (the plan).
local function show_from_server(name, title)
  return function(command, ctx)
    local bufnr = ctx.bufnr or vim.api.nvim_get_current_buf()
    M.execute(name, (command.arguments or {})[1], function(reply)
      local ran = type(reply.data) == "table" and reply.data.edits ~= nil -- a run: its answer and edits
      float.show("SmallCode: " .. title, ran and render.ask(reply) or render.command(reply))
      refresh_lenses(bufnr)
    end, bufnr)
  end
end

--- A run's $/progress in the echo area, one line cut to fit: "SmallCode: read_file calc.py", then its outcome.
local function echo_progress(args)
  local client = vim.lsp.get_client_by_id(args.data and args.data.client_id or -1)
  local value = args.data and args.data.params and args.data.params.value
  if not client or client.name ~= "smallcode" or type(value) ~= "table" then
    return
  end
  local text = value.message or value.title or ""
  if value.kind == "end" then -- the outcome: "done — checks passed: 3 tests (…)", "failed", "cancelled"
    text = value.message or "done"
  end
  local line = render.one_line("SmallCode: " .. text, math.max(vim.v.echospace, 20))
  vim.api.nvim_echo({ { line, value.kind == "end" and "ModeMsg" or "MoreMsg" } }, false, {})
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  if type(M.config.ghost_text) ~= "table" then -- ghost_text = false (or true): the defaults, on or off
    M.config.ghost_text = vim.tbl_extend("force", defaults.ghost_text, { enabled = M.config.ghost_text == true })
  end
  if type(M.config.review) ~= "table" then -- review = false: the server's older way
    M.config.review = vim.tbl_extend("force", defaults.review, { enabled = M.config.review ~= false })
  end
  review.config = M.config.review
  chat.config = M.config.chat
  M.configured = true -- for :checkhealth smallcode
  vim.lsp.commands["smallcode.ask"] = ask_from_server
  vim.lsp.commands["smallcode.planStep"] = show_from_server("planStep", "step")
  vim.lsp.commands["smallcode.plan"] = show_from_server("plan", "plan")
  vim.api.nvim_create_user_command("SmallCode", user_command, {
    nargs = "*",
    range = true,
    complete = complete,
    desc = "SmallCode: ask, budget, tokens, stats, trace, plan, memory, model, … (see :SmallCode help)",
  })
  local group = vim.api.nvim_create_augroup("smallcode", { clear = true })
  vim.api.nvim_create_autocmd({ "FileType", "BufReadPost", "BufNewFile" }, {
    group = group,
    callback = function(args)
      if wanted(args.buf) then
        M.start(args.buf)
      end
    end,
  })
  if M.config.progress and has("0.10") then
    vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = echo_progress })
  end
  -- buffers already open when setup runs
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and wanted(bufnr) then
      M.start(bufnr)
    end
  end
end

--- The streamed model text of a run (smallcode/stream notifications), for statuslines and tests.
function M.stream(run_id)
  return streams[run_id]
end

return M
