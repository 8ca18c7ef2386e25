-- Exercises with their categories and clip facts, saved plans, and which exercises each plan uses.
-- Applied by assets/migrations.py inside one transaction under an advisory lock; recorded in schema_migrations.

CREATE TABLE categories (
    id text PRIMARY KEY CONSTRAINT categories_id_format CHECK (id ~ '^[a-z0-9][a-z0-9_]{0,31}$')
);

CREATE TABLE exercises (
    id text PRIMARY KEY CONSTRAINT exercises_id_format CHECK (id ~ '^[a-z0-9][a-z0-9_]{0,63}$'),
    name text NOT NULL CONSTRAINT exercises_name_length CHECK (char_length(name) BETWEEN 1 AND 80 AND btrim(name) <> ''),
    description text NOT NULL DEFAULT '' CONSTRAINT exercises_description_length CHECK (char_length(description) <= 500),
    difficulty text NOT NULL
        CONSTRAINT exercises_difficulty_known CHECK (difficulty IN ('beginner', 'intermediate', 'advanced')),
    jump boolean NOT NULL,
    -- The clip: all eleven columns are set together once a clip is uploaded, or all are NULL.
    clip_key text CONSTRAINT exercises_clip_key_length CHECK (char_length(clip_key) BETWEEN 1 AND 1024),
    clip_version text CONSTRAINT exercises_clip_version_hex CHECK (clip_version ~ '^[0-9a-f]{16,64}$'),
    clip_fps_num integer CONSTRAINT exercises_clip_fps_num_positive CHECK (clip_fps_num > 0),
    clip_fps_den integer CONSTRAINT exercises_clip_fps_den_positive CHECK (clip_fps_den > 0),
    clip_frames integer CONSTRAINT exercises_clip_frames_positive CHECK (clip_frames > 0),
    clip_width integer CONSTRAINT exercises_clip_width_positive CHECK (clip_width > 0),
    clip_height integer CONSTRAINT exercises_clip_height_positive CHECK (clip_height > 0),
    clip_alpha boolean,
    clip_codec text CONSTRAINT exercises_clip_codec_length CHECK (char_length(clip_codec) BETWEEN 1 AND 32),
    clip_duration_seconds double precision CONSTRAINT exercises_clip_duration_positive CHECK (clip_duration_seconds > 0),
    clip_size_bytes bigint CONSTRAINT exercises_clip_size_positive CHECK (clip_size_bytes > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT exercises_clip_all_or_nothing CHECK (
        num_nulls(clip_key, clip_version, clip_fps_num, clip_fps_den, clip_frames, clip_width, clip_height,
                  clip_alpha, clip_codec, clip_duration_seconds, clip_size_bytes) IN (0, 11)
    )
);

CREATE TABLE exercise_categories (
    exercise_id text NOT NULL REFERENCES exercises (id) ON DELETE CASCADE,
    category_id text NOT NULL REFERENCES categories (id),
    PRIMARY KEY (exercise_id, category_id)
);
CREATE INDEX exercise_categories_category_id ON exercise_categories (category_id);

-- canonical_json keeps the exact bytes the plan id hashes; document is the same JSON as jsonb (validated on
-- insert, queryable), computed by PostgreSQL so the two can never disagree.
CREATE TABLE plans (
    id text PRIMARY KEY CONSTRAINT plans_id_hex CHECK (id ~ '^[0-9a-f]{16,64}$'),
    canonical_json text NOT NULL,
    document jsonb NOT NULL GENERATED ALWAYS AS (canonical_json::jsonb) STORED,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plan_items (
    plan_id text NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    position integer NOT NULL CONSTRAINT plan_items_position_natural CHECK (position >= 0),
    exercise_id text NOT NULL REFERENCES exercises (id) ON DELETE RESTRICT,
    PRIMARY KEY (plan_id, position)
);
CREATE INDEX plan_items_exercise_id ON plan_items (exercise_id);

-- Text search is a case-insensitive substring match (lower(column) LIKE '%text%'): trigram indexes serve it
-- when pg_trgm can be installed; otherwise a text_pattern_ops index still serves prefix matches on the name.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX exercises_name_search ON exercises USING gin (lower(name) gin_trgm_ops);
    CREATE INDEX exercises_description_search ON exercises USING gin (lower(description) gin_trgm_ops);
EXCEPTION
    WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_trgm unavailable (%): indexing lower(name) with text_pattern_ops', SQLERRM;
        CREATE INDEX exercises_name_search ON exercises (lower(name) text_pattern_ops);
END
$$;
