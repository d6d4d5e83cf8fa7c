-- A new build's log starts from the history the current publication carries (its attempts,
-- published and blocked, up to the last publication). Older publications lack `warnings`
-- and `absent_kpis`.
attach $published as previous (read_only);

insert into audit.publication_log by name
select * from previous.main.publication_log;

detach previous;
