-- Same content, new modification time: remember the time so the next scan skips the checksum.
update raw._load_manifest set mtime_ns = $mtime_ns where source_file = $source_file;
