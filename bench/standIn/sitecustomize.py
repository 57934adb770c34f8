# Imported at start-up by the Python of the cold-start bench's moto_server only (bench/realistic.ts
# puts this folder on its PYTHONPATH); nothing else runs moto with it.
#
# moto_server is the bench's stand-in for AWS, not what the bench measures. With automatic garbage
# collection on, a full (generation 2) collection of moto's heap pauses the server for about 50 ms
# at a point fixed by how many objects it has allocated: in every run it fell on the same round's
# TransactWriteItems and added that pause to one function's cold start (ingress: 1.3x the SDK
# floor in every round, 1.7x-1.8x in that one). AWS answers have no such pause. Reference counting
# still frees moto's garbage; only the cycle collector is off, for the few minutes the bench runs.
import gc

gc.disable()
