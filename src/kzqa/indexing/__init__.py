"""Building and changing an index: the build, add and remove, sources to add, the default library."""
