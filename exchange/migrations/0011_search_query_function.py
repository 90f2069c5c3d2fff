"""``exchange_search_query(text, configs)``: a text read in each text-search configuration,
each distinct reading once (exchange.search.readings_sql: the catalogue's text queries and
the text similarity of matches).

Spanish, Portuguese and French often stem a query alike ("agua potable" is 'agu' & 'potabl'
in all three). The same reading OR'ed three times is checked three times for every listing
the index finds, and the planner prices a GIN scan by the query's operands: at 1,000
listings it read "agua potable" with a sequential scan of every search vector (7.5 ms)
instead of the index (0.2 ms). The function is IMMUTABLE, as ``websearch_to_tsquery`` is: PostgreSQL evaluates it once while
planning a query that calls it with constants, and plans with the resulting tsquery, whose
lexemes it can estimate. A subquery computing the same readings is planned blind instead
(an InitPlan), and chose a plan five times slower for the API's text queries.

Matches are the same as the plain OR of every reading's; so is ``ts_rank``, which weighs
each distinct lexeme of an OR once. It weighs a query whose top is AND differently, so when
every reading is the same (a name, a number) the function keeps the OR of two. A text
without lexemes (punctuation, stop words alone) gives NULL, which matches nothing, as the
empty tsquery of the plain OR did.
"""

from django.db import migrations

FUNCTION_SQL = """
CREATE FUNCTION exchange_search_query(query text, configs regconfig[]) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    config regconfig;
    reading tsquery;
    seen text[] := '{}';
    readings integer := 0;
    result tsquery;  -- NULL until a reading has lexemes: '' would raise a NOTICE
BEGIN
    FOREACH config IN ARRAY configs LOOP
        reading := websearch_to_tsquery(config, query);
        CONTINUE WHEN numnode(reading) = 0;  -- only stop words in this language
        readings := readings + 1;
        CONTINUE WHEN reading::text = ANY(seen);
        seen := seen || reading::text;
        result := coalesce(result || reading, reading);
    END LOOP;
    IF readings > 1 AND cardinality(seen) = 1 THEN
        result := result || result;
    END IF;
    RETURN result;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("exchange", "0010_published_has_date")]

    operations = [
        migrations.RunSQL(FUNCTION_SQL, "DROP FUNCTION exchange_search_query(text, regconfig[])"),
    ]
