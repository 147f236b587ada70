/* Runs a kiln module from C through kiln.h: creates a device, loads the module, prints the
 * signature of a function, feeds it inputs read from raw little-endian files, and writes each
 * result's bytes to a file.
 *
 *   run_model DEVICE MODULE FUNCTION OUT_PREFIX INPUT...
 *
 * Each INPUT is a raw file holding exactly the bytes of that input (its shape is the
 * signature's: this example runs functions whose dims are fixed). Result i is written to
 * OUT_PREFIX<i>.bin. Exit status 0 on success, 1 with kiln's message on stderr otherwise.
 *
 * Built with a static library (kiln-compile --iree-llvmcpu-link-embedded=false
 * --iree-llvmcpu-static-library-output-path=DIR/NAME.o), it needs no module file: define
 * KILN_LIBRARY_HEADER ("NAME.h") and KILN_LIBRARY_QUERY (NAME_library_query), link NAME.o and
 * an object defining the module's bytes from `kiln_embedded_module` to
 * `kiln_embedded_module_end`; MODULE is then ignored. */

#include <stdio.h>
#include <stdlib.h>

#include "kiln.h"

#ifdef KILN_LIBRARY_QUERY
#include KILN_LIBRARY_HEADER
extern const unsigned char kiln_embedded_module[];
extern const unsigned char kiln_embedded_module_end[];
#endif

static int fail(kiln_status* s) {
  fprintf(stderr, "run_model: %s\n", kiln_status_message(s));
  kiln_status_free(s);
  return 1;
}

/* The bytes of a regular file (NULL if it cannot be read or sized). */
static unsigned char* read_file(const char* path, size_t* length) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  unsigned char* data = malloc(n > 0 ? (size_t)n : 1);
  if (data) *length = fread(data, 1, (size_t)n, f);
  fclose(f);
  return data;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s DEVICE MODULE FUNCTION OUT_PREFIX INPUT...\n", argv[0]);
    return 2;
  }
  const char* function = argv[3];
  kiln_instance* instance = NULL;
  kiln_device* device = NULL;
  kiln_module* module = NULL;
  kiln_status* s = kiln_instance_create(&instance);
  if (!s) s = kiln_device_create(instance, argv[1], &device);
#ifdef KILN_LIBRARY_QUERY
  if (!s) s = kiln_register_static_library(KILN_LIBRARY_QUERY);
  if (!s)
    s = kiln_module_load_bytes(device, kiln_embedded_module,
                               (size_t)(kiln_embedded_module_end - kiln_embedded_module), &module);
#else
  if (!s) s = kiln_module_load_file(device, argv[2], &module);
#endif
  if (s) return fail(s);

  size_t n_in = 0, n_out = 0;
  s = kiln_module_signature(module, function, &n_in, NULL, &n_out, NULL);
  if (s) return fail(s);
  kiln_tensor_type* in_types = calloc(n_in, sizeof(kiln_tensor_type));
  kiln_tensor_type* out_types = calloc(n_out, sizeof(kiln_tensor_type));
  s = kiln_module_signature(module, function, &n_in, in_types, &n_out, out_types);
  if (s) return fail(s);
  if ((size_t)(argc - 5) != n_in) {
    fprintf(stderr, "run_model: '%s' takes %zu inputs, got %d\n", function, n_in, argc - 5);
    return 1;
  }

  kiln_tensor** inputs = calloc(n_in, sizeof(kiln_tensor*));
  for (size_t i = 0; i < n_in; i++) {
    const kiln_tensor_type* t = &in_types[i];
    int open = t->rank < 0;
    for (int64_t d = 0; d < t->rank; d++) open |= t->dims[d] < 0;
    if (open) {
      fprintf(stderr, "run_model: input %zu's shape is known only per call\n", i);
      return 1;
    }
    printf("input %zu: %s[", i, kiln_element_type_name(t->element_type));
    for (int64_t d = 0; d < t->rank; d++) printf(d ? "x%lld" : "%lld", (long long)t->dims[d]);
    printf("]\n");
    size_t length = 0;
    unsigned char* data = read_file(argv[5 + i], &length);
    if (!data) {
      fprintf(stderr, "run_model: cannot read %s\n", argv[5 + i]);
      return 1;
    }
    s = kiln_tensor_create(t->element_type, t->dims, (size_t)t->rank, data, length, &inputs[i]);
    free(data);
    if (s) return fail(s);
  }

  kiln_tensor** outputs = calloc(n_out, sizeof(kiln_tensor*));
  size_t produced = 0;
  s = kiln_module_call(module, function, (const kiln_tensor* const*)inputs, n_in, outputs, n_out,
                       &produced);
  if (s) return fail(s);
  for (size_t i = 0; i < produced; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s%zu.bin", argv[4], i);
    FILE* f = fopen(path, "wb");
    if (!f) {
      fprintf(stderr, "run_model: cannot write %s\n", path);
      return 1;
    }
    fwrite(kiln_tensor_data(outputs[i]), 1, kiln_tensor_byte_length(outputs[i]), f);
    fclose(f);
    printf("result %zu: %s, %zu dims, %zu bytes\n", i,
           kiln_element_type_name(kiln_tensor_element_type(outputs[i])),
           kiln_tensor_rank(outputs[i]), kiln_tensor_byte_length(outputs[i]));
    kiln_tensor_free(outputs[i]);
  }
  for (size_t i = 0; i < n_in; i++) kiln_tensor_free(inputs[i]);
  free(inputs);
  free(outputs);
  free(in_types);
  free(out_types);
  kiln_module_free(module);
  kiln_device_free(device);
  kiln_instance_free(instance);
  return 0;
}
