// Nothing for hunch: no serverExternalPackages, no wasm loader. On the server, hunch finds
// hunch.wasm next to its own package file; in the browser the bundler emits it as an asset.
export default {};
