-- Keeps the numbering of the migrations that follow; changes nothing.
SELECT 1;
