"""Published constants shared by a built-in's autograd loss (numerics.builtins) and its compiled one (numerics.kernels).

One definition each, so the two losses cannot drift apart (numba freezes these arrays as globals).
"""
import numpy as np

# Müller & Brown, Theor. Chim. Acta 53, 75 (1979): V = Σ_i A_i exp(a_i(x−x0_i)² + b_i(x−x0_i)(y−y0_i) + c_i(y−y0_i)²)
MB_A = np.array([-200.0, -100.0, -170.0, 15.0])
MB_a = np.array([-1.0, -1.0, -6.5, 0.7])
MB_b = np.array([0.0, 0.0, 11.0, 0.6])
MB_c = np.array([-10.0, -10.0, -6.5, 0.7])
MB_x0 = np.array([1.0, 0.0, -0.5, -1.0])
MB_y0 = np.array([0.0, 0.5, 1.5, 1.0])
