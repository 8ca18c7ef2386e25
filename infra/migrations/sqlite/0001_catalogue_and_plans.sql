-- Exercises with their categories and clip facts, saved plans, and which exercises each plan uses.
-- Same meaning as the PostgreSQL migration of the same number. STRICT tables make SQLite refuse values of
-- the wrong type; GLOB stands in for the regular expressions SQLite does not have.

CREATE TABLE categories (
    id TEXT PRIMARY KEY CONSTRAINT categories_id_format CHECK (
        length(id) BETWEEN 1 AND 32 AND id GLOB '[a-z0-9]*' AND id NOT GLOB '*[^a-z0-9_]*'
    )
) STRICT;

CREATE TABLE exercises (
    id TEXT PRIMARY KEY CONSTRAINT exercises_id_format CHECK (
        length(id) BETWEEN 1 AND 64 AND id GLOB '[a-z0-9]*' AND id NOT GLOB '*[^a-z0-9_]*'
    ),
    name TEXT NOT NULL CONSTRAINT exercises_name_length CHECK (length(name) BETWEEN 1 AND 80 AND trim(name) <> ''),
    description TEXT NOT NULL DEFAULT '' CONSTRAINT exercises_description_length CHECK (length(description) <= 500),
    difficulty TEXT NOT NULL
        CONSTRAINT exercises_difficulty_known CHECK (difficulty IN ('beginner', 'intermediate', 'advanced')),
    jump INTEGER NOT NULL CONSTRAINT exercises_jump_boolean CHECK (jump IN (0, 1)),
    -- The clip: all eleven columns are set together once a clip is uploaded, or all are NULL.
    clip_key TEXT CONSTRAINT exercises_clip_key_length CHECK (length(clip_key) BETWEEN 1 AND 1024),
    clip_version TEXT CONSTRAINT exercises_clip_version_hex CHECK (
        length(clip_version) BETWEEN 16 AND 64 AND clip_version NOT GLOB '*[^0-9a-f]*'
    ),
    clip_fps_num INTEGER CONSTRAINT exercises_clip_fps_num_positive CHECK (clip_fps_num BETWEEN 1 AND 2147483647),
    clip_fps_den INTEGER CONSTRAINT exercises_clip_fps_den_positive CHECK (clip_fps_den BETWEEN 1 AND 2147483647),
    clip_frames INTEGER CONSTRAINT exercises_clip_frames_positive CHECK (clip_frames BETWEEN 1 AND 2147483647),
    clip_width INTEGER CONSTRAINT exercises_clip_width_positive CHECK (clip_width BETWEEN 1 AND 2147483647),
    clip_height INTEGER CONSTRAINT exercises_clip_height_positive CHECK (clip_height BETWEEN 1 AND 2147483647),
    clip_alpha INTEGER CONSTRAINT exercises_clip_alpha_boolean CHECK (clip_alpha IN (0, 1)),
    clip_codec TEXT CONSTRAINT exercises_clip_codec_length CHECK (length(clip_codec) BETWEEN 1 AND 32),
    clip_duration_seconds REAL CONSTRAINT exercises_clip_duration_positive CHECK (clip_duration_seconds > 0),
    clip_size_bytes INTEGER CONSTRAINT exercises_clip_size_positive CHECK (clip_size_bytes > 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT exercises_clip_all_or_nothing CHECK (
        (clip_key IS NULL) + (clip_version IS NULL) + (clip_fps_num IS NULL) + (clip_fps_den IS NULL)
        + (clip_frames IS NULL) + (clip_width IS NULL) + (clip_height IS NULL) + (clip_alpha IS NULL)
        + (clip_codec IS NULL) + (clip_duration_seconds IS NULL) + (clip_size_bytes IS NULL) IN (0, 11)
    )
) STRICT;

CREATE TABLE exercise_categories (
    exercise_id TEXT NOT NULL REFERENCES exercises (id) ON DELETE CASCADE,
    category_id TEXT NOT NULL REFERENCES categories (id),
    PRIMARY KEY (exercise_id, category_id)
) STRICT;
CREATE INDEX exercise_categories_category_id ON exercise_categories (category_id);

-- plans predates the migrations (assets/store.py created it with the same columns and no checks). Creating
-- it if missing and then rebuilding it gives old and new files the same table and keeps their plans.
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY,
    canonical_json TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE plans_rebuilt (
    id TEXT PRIMARY KEY CONSTRAINT plans_id_hex CHECK (
        length(id) BETWEEN 16 AND 64 AND id NOT GLOB '*[^0-9a-f]*'
    ),
    canonical_json TEXT NOT NULL CONSTRAINT plans_canonical_json_valid CHECK (json_valid(canonical_json)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
INSERT INTO plans_rebuilt (id, canonical_json, created_at) SELECT id, canonical_json, created_at FROM plans;
DROP TABLE plans;
ALTER TABLE plans_rebuilt RENAME TO plans;

CREATE TABLE plan_items (
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    position INTEGER NOT NULL CONSTRAINT plan_items_position_natural CHECK (position >= 0),
    exercise_id TEXT NOT NULL REFERENCES exercises (id) ON DELETE RESTRICT,
    PRIMARY KEY (plan_id, position)
) STRICT;
CREATE INDEX plan_items_exercise_id ON plan_items (exercise_id);

-- Listings are ordered by lower(name) (then name, id); substring search scans, as LIKE '%text%' must.
CREATE INDEX exercises_name_search ON exercises (lower(name));
