-- kam for Neovim 0.11 or later: put this file in ~/.config/nvim/plugin/ (or source it).
vim.filetype.add({ extension = { kam = "kam" } })

vim.lsp.config("kam", {
  cmd = { "kam", "lsp" },
  filetypes = { "kam" },
  root_markers = { "kam.toml", ".git" },
})
vim.lsp.enable("kam")

-- Format on save through the server (kam fmt).
vim.api.nvim_create_autocmd("BufWritePre", {
  pattern = "*.kam",
  callback = function(args) vim.lsp.buf.format({ bufnr = args.buf }) end,
})

-- Comments start with #.
vim.api.nvim_create_autocmd("FileType", {
  pattern = "kam",
  callback = function() vim.bo.commentstring = "# %s" end,
})
