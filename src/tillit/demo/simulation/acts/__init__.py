"""One module per behaviour of the simulated company and its customers. Each act is a
function ``act(world, progress)`` that acts only through Tillit's own services and ingest,
never by writing tables; ``ACTS`` runs them in order. A later capability adds its act here."""
