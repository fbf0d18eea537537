from app.metagraph.cache import MetagraphCache
from app.metagraph.snapshot import Neuron, Snapshot
from app.metagraph.sources import FileSource, MetagraphSource

__all__ = ["FileSource", "MetagraphCache", "MetagraphSource", "Neuron", "Snapshot"]
