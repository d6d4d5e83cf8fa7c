select count(*) from publication.main.{{ table }}
