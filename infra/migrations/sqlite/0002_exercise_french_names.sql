-- Exercises gain an optional French name, drawn on French plans' screens (NULL: the English name is drawn).
-- Same rule as name. Same meaning as the PostgreSQL migration of the same number.

ALTER TABLE exercises ADD COLUMN name_fr TEXT
    CONSTRAINT exercises_name_fr_length CHECK (length(name_fr) BETWEEN 1 AND 80 AND trim(name_fr) <> '');

-- The sample library's exercises stored before this migration, still under their sample names.
UPDATE exercises SET name_fr = 'Squat' WHERE id = 'squat' AND name = 'Squat' AND name_fr IS NULL;
UPDATE exercises SET name_fr = 'Jumping jack' WHERE id = 'jumping_jack' AND name = 'Jumping Jack' AND name_fr IS NULL;
UPDATE exercises SET name_fr = 'Pompe' WHERE id = 'push_up' AND name = 'Push-up' AND name_fr IS NULL;
UPDATE exercises SET name_fr = 'Fente' WHERE id = 'lunge' AND name = 'Lunge' AND name_fr IS NULL;
UPDATE exercises SET name_fr = 'Gainage (planche)' WHERE id = 'plank' AND name = 'Plank' AND name_fr IS NULL;
UPDATE exercises SET name_fr = 'Burpee' WHERE id = 'burpee' AND name = 'Burpee' AND name_fr IS NULL;
