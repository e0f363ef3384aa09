/* Keras model descriptions (export/keras_json_parse.c): what
 * model.to_json() writes, from any Keras 2.x. An accepted description must
 * build: its nn_arch has consistent sizes, and (when small enough to build
 * here) the network exported again -- fer_keras_model_from_net, then
 * fer_keras_json_format, as fer-export --keras does -- parses back to the
 * same network. */
#include <stdlib.h>
#include <string.h>

#include "export/keras_json.h"
#include "tests/fuzz/targets.h"

int fer_fuzz_keras_json(const uint8_t *data, size_t n)
{
    static fer_keras_model km, again; /* large: keep them off the stack */
    nn_error err = {0};
    nn_status st = fer_keras_json_parse((const char *)data, n, "fuzz.json", &km, &err);
    if (st != NN_OK) {
        if (err.code != st || !err.msg[0])
            return fer_fuzz_violation("keras_json", "status %d without a message", st);
        return 0;
    }
    size_t params, values;
    if (km.n_layers < 1 || km.n_layers > FER_KERAS_MAX_LAYERS)
        return fer_fuzz_violation("keras_json", "%d layers", km.n_layers);
    if (nn_arch_sizes(&km.arch, &params, &values, &err))
        return fer_fuzz_violation("keras_json", "accepted a network that cannot be built: %s",
                                  err.msg);
    for (int i = 0; i < km.n_layers; i++)
        if (!memchr(km.layers[i].name, '\0', sizeof km.layers[i].name) ||
            km.layers[i].arch_layer >= km.arch.n_layers)
            return fer_fuzz_violation("keras_json", "layer %d malformed", i);
    if (values > (1 << 20) || params > (1 << 20)) return 0; /* fine, but too big to build here */
    /* The builder may still refuse (one output class, say): with a message,
     * which is what fer-export --from-keras then shows. */
    nn_model *net = nn_model_create(&km.arch, 1, NN_NO_GRADS, &err);
    if (!net) return err.msg[0] ? 0 : fer_fuzz_violation("keras_json", "build failed silently");
    fer_keras_model_from_net(net, fer_keras_find(&km, FER_KL_NORMALIZATION) >= 0, &again);
    char *text = NULL;
    int rc = 0;
    if (fer_keras_json_format(&again, "fuzz", &text, &err)) {
        if (err.code != NN_ERR_NOMEM) rc = fer_fuzz_violation("keras_json", "format: %s", err.msg);
    } else if (fer_keras_json_parse(text, strlen(text), "again.json", &again, &err)) {
        rc = fer_fuzz_violation("keras_json", "our own export does not parse: %s", err.msg);
    } else if (memcmp(&again.arch, &net->arch, sizeof net->arch) != 0) {
        rc = fer_fuzz_violation("keras_json", "our own export parses to another network");
    }
    nn_model_free(net);
    free(text);
    return rc;
}
