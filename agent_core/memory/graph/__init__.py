"""The code graph: definitions, references and imports of a workspace's source files (tree-sitter), kept in
.smallcode/index.db, ranked like Aider's repository map; read by graph_search, explain_symbol and the map."""
