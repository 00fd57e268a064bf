-- The filter box of the portal-user list with 100,000 users in one agency: a trigram index
-- over each user's search text, so a search finds the users whose text holds the trigrams of
-- what was typed instead of reading every user of the agency (see db::portal_users::list).
-- The LIKE of the search still decides what matches; the index only narrows the rows it
-- reads. Contentless: the text stays in portal_users, and each user's entry (rowid = the
-- user's id) follows their search text through the triggers below, whichever of the
-- table's triggers runs first.

CREATE VIRTUAL TABLE portal_user_search USING fts5(
    search_text,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1',
    detail = none
);

INSERT INTO portal_user_search (rowid, search_text) SELECT id, search_text FROM portal_users;

CREATE TRIGGER portal_user_search_on_insert AFTER INSERT ON portal_users
BEGIN
    DELETE FROM portal_user_search WHERE rowid = NEW.id;
    INSERT INTO portal_user_search (rowid, search_text)
    SELECT id, search_text FROM portal_users WHERE id = NEW.id;
END;

CREATE TRIGGER portal_user_search_on_update AFTER UPDATE OF search_text ON portal_users
BEGIN
    DELETE FROM portal_user_search WHERE rowid = OLD.id;
    INSERT INTO portal_user_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;

CREATE TRIGGER portal_user_search_on_delete AFTER DELETE ON portal_users
BEGIN
    DELETE FROM portal_user_search WHERE rowid = OLD.id;
END;
