-- Prefixed ULIDs (`exc_01J…`) made in SQL, the same format as db/ids.ts newId(): 48-bit ms timestamp + 80
-- random bits in Crockford base32. The exceptions janitor (server/exceptions/janitor.ts) records what it
-- finds with one INSERT … SELECT per detector, so the ids of the rows it inserts are made here.
CREATE OR REPLACE FUNCTION pb_new_id(prefix text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  ms bigint := floor(extract(epoch from clock_timestamp()) * 1000);
  u bit(128) := ('x' || replace(gen_random_uuid()::text, '-', ''))::bit(128);
  -- the 80 random bits of a v4 uuid that are neither its version (bits 48-51) nor its variant (64-65)
  r bit(80) := substring(u from 1 for 48) || substring(u from 67 for 32);
  out text := '';
BEGIN
  FOR i IN REVERSE 9..0 LOOP
    out := out || substr(alphabet, ((ms >> (5 * i)) & 31)::int + 1, 1);
  END LOOP;
  FOR i IN 0..15 LOOP
    out := out || substr(alphabet, substring(r from i * 5 + 1 for 5)::int + 1, 1);
  END LOOP;
  RETURN prefix || '_' || out;
END
$$;
