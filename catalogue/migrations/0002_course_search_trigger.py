"""The course's stored search vector, kept by the database whatever writes (the API, the import, the
console, a shell): course name (A), field (B), university name and city (C). A university renamed
refreshes its courses. Simple-config words for the university (names are not English prose)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION catalogue_course_vector(course_name text, course_field text, university_id bigint)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english', coalesce(course_name, '')), 'A')
        || setweight(to_tsvector('english', coalesce(course_field, '')), 'B')
        || setweight(to_tsvector('simple', coalesce(u.name, '') || ' ' || coalesce(u.city, '')), 'C')
    FROM catalogue_university u WHERE u.id = university_id
$$;

CREATE FUNCTION catalogue_course_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector := catalogue_course_vector(NEW.name, NEW.field, NEW.university_id);
    RETURN NEW;
END $$;

CREATE TRIGGER catalogue_course_search
    BEFORE INSERT OR UPDATE OF name, field, university_id ON catalogue_course
    FOR EACH ROW EXECUTE FUNCTION catalogue_course_search_update();

CREATE FUNCTION catalogue_university_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalogue_course
       SET search_vector = catalogue_course_vector(name, field, university_id)
     WHERE university_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER catalogue_university_search
    AFTER UPDATE OF name, city ON catalogue_university
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.city IS DISTINCT FROM NEW.city)
    EXECUTE FUNCTION catalogue_university_search_update();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS catalogue_university_search ON catalogue_university;
DROP FUNCTION IF EXISTS catalogue_university_search_update();
DROP TRIGGER IF EXISTS catalogue_course_search ON catalogue_course;
DROP FUNCTION IF EXISTS catalogue_course_search_update();
DROP FUNCTION IF EXISTS catalogue_course_vector(text, text, bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
