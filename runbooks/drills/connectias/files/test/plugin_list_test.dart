import 'package:flutter_test/flutter_test.dart';

void main() {
  test('plugin list shows every installed plugin', () {});
  test('fuel gauge reads the metering mode', () {});
  test('rollback banner appears after a rollback deploy', () {});
}
