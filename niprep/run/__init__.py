"""The run machinery: cases of a folder, backends, staging, manifest, fingerprints, the
output tree and its lock, and the runner that maps a task over the cases safely."""
