import { contention } from "./contention";

contention("dynamodb");
