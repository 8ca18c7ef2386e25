-- Exercises gain an optional French name, drawn on French plans' screens (NULL: the English name is drawn).
-- Same rule as name. Applied by assets/migrations.py inside one transaction under an advisory lock.

ALTER TABLE exercises ADD COLUMN name_fr text
    CONSTRAINT exercises_name_fr_length CHECK (char_length(name_fr) BETWEEN 1 AND 80 AND btrim(name_fr) <> '');

-- The sample library's exercises stored before this migration, still under their sample names.
UPDATE exercises SET name_fr = sample.name_fr
FROM (VALUES
    ('squat', 'Squat', 'Squat'),
    ('jumping_jack', 'Jumping Jack', 'Jumping jack'),
    ('push_up', 'Push-up', 'Pompe'),
    ('lunge', 'Lunge', 'Fente'),
    ('plank', 'Plank', 'Gainage (planche)'),
    ('burpee', 'Burpee', 'Burpee')
) AS sample (id, name, name_fr)
WHERE exercises.id = sample.id AND exercises.name = sample.name AND exercises.name_fr IS NULL;
