"""Pure rules: no I/O, no imports of djctl outside domain."""
