/* test_vision_haar_alloc.c: per-frame detection allocates nothing.
 *
 * A kiosk runs haar_detect on every 640x480 webcam frame; after the
 * workspace has seen the frame size, a frame must not touch the heap. This
 * binary interposes malloc/calloc/realloc/free (forwarding to glibc's) and
 * counts calls made by this thread while a flag is set.
 */
#include <criterion/criterion.h>
#include <stddef.h>

#include "tests/test_vision_haar_fixture.h"
#include "vision/haar.h"

/* AddressSanitizer owns malloc; interposing it as well breaks both, so the
 * sanitized suite (make sanitize) builds this test as a skip. */
#if defined(__SANITIZE_ADDRESS__)
Test(haar_alloc, steady_state_frames_allocate_nothing)
{
    cr_skip_test("malloc interposition is not possible under AddressSanitizer");
}
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static _Thread_local volatile int counting;   /* volatile: GCC assumes malloc touches no globals */
static _Thread_local volatile long heap_calls;

void *malloc(size_t n)
{
    if (counting) heap_calls++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    if (counting) heap_calls++;
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    if (counting) heap_calls++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    if (counting && p) heap_calls++;
    __libc_free(p);
}

Test(haar_alloc, steady_state_frames_allocate_nothing)
{
    static hfx fx;
    cr_assert_eq(hfx_load(&fx), 0, "fixture: %s", fx.err);
    nn_error err;
    haar_cascade *c = haar_cascade_load(HAAR_DEFAULT_CASCADE, &err);
    cr_assert_not_null(c, "%s", err.msg);
    haar_workspace *ws = haar_workspace_new(c, &err);
    cr_assert_not_null(ws);
    const hfx_image *f1 = hfx_find(&fx, "frame1"), *f2 = hfx_find(&fx, "frame2");
    haar_params p = haar_params_default();
    haar_rect out[16];
    int n;

    counting = 1;   /* the counter works (volatile: keep the pair from being elided) */
    void *volatile probe = malloc(1);
    free(probe);
    counting = 0;
    cr_assert_eq(heap_calls, 2, "counter saw %ld calls", heap_calls);

    cr_assert_eq(haar_workspace_prepare(ws, 640, 480, &err), NN_OK);
    cr_assert_eq(haar_detect(c, ws, f1->px, 640, 480, 640, &p, out, 16, &n, &err), NN_OK);   /* warm-up */
    heap_calls = 0;
    counting = 1;
    for (int k = 0; k < 4; k++) {
        const hfx_image *im = k % 2 ? f2 : f1;
        haar_detect(c, ws, im->px, 640, 480, 640, &p, out, 16, &n, &err);
    }
    counting = 0;
    cr_expect_eq(heap_calls, 0, "%ld heap calls in 4 frames", heap_calls);
    cr_expect_eq(n, 3);

    haar_workspace_free(ws);
    haar_cascade_free(c);
    hfx_free(&fx);
}
#endif
