/**
 * What `yaml`, `toml` and `ini` are in the `fleet-db` bundle (see bundle-cli.mjs). @effect/cli
 * imports them only to read option values from files (`Options.fileParse`, `ConfigFile`), which
 * no `fleet-db` option does; left out, every command has ~400 kB less to load.
 */
export const parse = () => {
  throw new Error("fleet-db reads no option values from YAML, TOML or INI files")
}
