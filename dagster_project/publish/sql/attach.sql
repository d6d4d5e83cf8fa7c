-- The build warehouse, read-only, and the new publication file at a documented storage version.
attach $build_db as build (read_only);

attach $publication_file as publication (storage_version '{{ storage_version }}')
