-- The open failures of some files are over: each is back at the version that loaded, or gone
-- from the landing zone. Kept as history; they no longer block publication.
update raw._load_failures
set resolved_at = $resolved_at
where source_file in (select unnest($source_files)) and resolved_at is null;
