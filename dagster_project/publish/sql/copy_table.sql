-- One published table: copied from the build's marts, then written as Parquet beside it.
create table publication.main.{{ table }} as select * from build.marts.{{ table }};

copy publication.main.{{ table }} to $path (format parquet)
