/* Adam (nn/adam.h): one step against the formula worked by hand, and the
 * subnormal flush: a weight whose gradient stays 0 ends with m exactly 0,
 * never passing through the subnormal range. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>

#include "nn/adam.h"

Test(adam, one_step_is_keras_rule)
{
    nn_adam a;
    cr_assert_eq(nn_adam_init(&a, 2, NULL), NN_OK);
    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, -0.25f};
    nn_adam_step(&a, p, g, 1);
    /* t = 1: m = 0.1 g, v = 0.001 g^2, lr_t = 0.001 sqrt(0.001) / 0.1 */
    for (int i = 0; i < 2; i++) {
        const double m = 0.1 * g[i], v = 0.001 * g[i] * g[i], lr_t = 0.001 * sqrt(0.001) / 0.1;
        const double want = (i ? -2.0 : 1.0) - lr_t * m / (sqrt(v) + 1e-7);
        cr_expect(fabs(p[i] - want) < 1e-7, "p[%d] = %.9g, by hand %.9g", i, p[i], want);
        cr_expect(fabs(a.m[i] - m) <= 1e-4 * fabs(m) && fabs(a.v[i] - v) <= 1e-4 * v, "m %g v %g", a.m[i], a.v[i]);
    }
    nn_adam_free(&a);
}

Test(adam, state_of_a_dead_weight_flushes_to_zero)
{
    nn_adam a;
    cr_assert_eq(nn_adam_init(&a, 1, NULL), NN_OK);
    float p = 0.5f, g = 1e-3f, zero = 0.0f;
    nn_adam_step(&a, &p, &g, 1);
    int subnormal_steps = 0;
    for (int s = 0; s < 2000; s++) { /* m shrinks by 0.9 a step: 1e-4 -> 1e-38 in ~800 */
        nn_adam_step(&a, &p, &zero, 1);
        if (fpclassify(a.m[0]) == FP_SUBNORMAL || fpclassify(a.v[0]) == FP_SUBNORMAL) subnormal_steps++;
    }
    cr_expect_eq(subnormal_steps, 0, "m or v was subnormal after %d steps", subnormal_steps);
    cr_expect_eq(a.m[0], 0.0f, "m = %g", a.m[0]);
    cr_expect(a.v[0] > 0.0f, "v (beta2 = 0.999) is still normal after 2000 steps: %g", a.v[0]);
    cr_expect(isfinite(p));
    nn_adam_free(&a);
}
